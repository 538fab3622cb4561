package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/publish/publishtest"
	"ferry/internal/store/s3test"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// TestPublishMirrorGet walks the publisher's service end to end as people
// type it: a channel harvested from a local web server (a made-up site and
// real Wikibooks pages and a real Atom feed from the shared test data),
// published twice with a change, served as a mirror, pulled into another
// mirror, and fetched by readers: one holding edition 1 (it takes only the
// delta), one starting from nothing from the pulled mirror. Objects copied
// out of the store verify and import like any archive, and the store's
// WARCs rebuild the latest edition offline (publish --replay).
func TestPublishMirrorGet(t *testing.T) {
	root := shared.Root() // before newCLI moves into a temporary folder
	c := newCLI(t)
	c.multi = true
	site, err := corpus.Site(corpus.Options{Pages: 20, Seed: 11, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	sources := []string{}
	origin := publishtest.NewOrigin(t, site)
	sources = append(sources, `site = "`+origin.URL+`/"`)
	if root != "" {
		books := publishtest.DirFS(t, filepath.Join(root, "html", "wikibooks_en"))
		feed, err := os.ReadFile(filepath.Join(root, "feeds", "gulp-releases.atom"))
		if err != nil {
			t.Fatal(err)
		}
		books["releases.atom"] = &fstest.MapFile{Data: feed}
		real := publishtest.NewOrigin(t, books)
		sources = append(sources,
			`site = "`+real.URL+`/Wikibooks.html"`+"\ndepth = 1",
			`feed = "`+real.URL+`/releases.atom"`+"\narticles = false\nmax_pages = 5")
	} else {
		t.Log("shared test data missing: the real pages and feed are left out")
	}
	c.ok("keygen", "-o", "news")
	cfg := publishtest.Config(t, c.dir, "ferry.toml", "state", publishtest.Channel{
		Name: "news", Title: "소식", Key: "news.key", Store: "store", Sources: sources,
	})

	out := c.ok("publish", "-c", cfg)
	if !strings.Contains(out, "news: published edition 1 to") || !strings.Contains(out, "pages ") || !strings.Contains(out, "fetched") {
		t.Fatalf("first publish: %s", out)
	}
	out = c.ok("publish", "-c", cfg)
	if !strings.Contains(out, "nothing changed since edition 1") {
		t.Fatalf("second publish: %s", out)
	}
	next, _, err := corpus.Edit(site, corpus.Options{Pages: 20, Seed: 11, Pictures: true}, 4, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	origin.Set(next)
	if out := c.ok("publish", "-c", cfg, "--dry-run"); !strings.Contains(out, "would publish edition 2") {
		t.Fatalf("dry run: %s", out)
	}
	out = c.ok("publish", "-c", cfg, "--channel", "news")
	if !strings.Contains(out, "published edition 2") || !strings.Contains(out, "delta ") {
		t.Fatalf("third publish: %s", out)
	}
	if out := c.ok("publish", "-c", cfg, "--due"); !strings.Contains(out, "news: not due: edition 2") {
		t.Fatalf("publish --due: %s", out)
	}
	c.run(2, "", "publish", "-c", cfg, "--channel", "nope")
	// The WARCs in the store rebuild edition 2 offline; edition 1's alone do not.
	warcs := filepath.Join("store", "news", "warc")
	if out := c.ok("publish", "-c", cfg, "--replay", warcs); !strings.Contains(out, "news: the WARCs rebuild edition 2 exactly") {
		t.Fatalf("publish --replay: %s", out)
	}
	if out := c.run(1, "", "publish", "-c", cfg, "--replay", filepath.Join(warcs, "000001")); !strings.Contains(out, "do not rebuild edition 2") {
		t.Fatalf("publish --replay of edition 1's WARCs: %s", out)
	}

	// Store objects are ordinary archives.
	ed1 := filepath.Join("store", "news", "editions", "000001.ferry")
	c.ok("verify", "--trust", "news.pub", ed1, filepath.Join("store", "news", "deltas", "000002-000001.ferry"))
	c.ok("trust", "add", "news.pub", "--library", "lib")
	c.ok("import", ed1, "--library", "lib")

	addr := freePort(t)
	serveInProcess(t, "", []string{"mirror", "serve", "store", "--addr", addr}, "http://"+addr+"/catalog.opds.xml")
	url := "http://" + addr + "/"
	out = c.ok("get", url, "--library", "lib")
	if !strings.Contains(out, "news: now at edition 2: fetched 1 delta") {
		t.Fatalf("get with edition 1 held: %s", out)
	}
	if out := c.ok("get", url, "--library", "lib"); !strings.Contains(out, "up to date (edition 2)") {
		t.Fatalf("second get: %s", out)
	}

	out = c.ok("mirror", "pull", url, "copy", "--trust", "news.pub")
	if !strings.Contains(out, "1 channel mirrored") {
		t.Fatalf("pull: %s", out)
	}
	addr2 := freePort(t)
	serveInProcess(t, "", []string{"mirror", "serve", "copy", "--addr", addr2}, "http://"+addr2+"/")
	c.ok("trust", "add", "news.pub", "--library", "lib2")
	out = c.ok("get", "http://"+addr2+"/", "--library", "lib2")
	if !strings.Contains(out, "news: now at edition 2") {
		t.Fatalf("get from the pulled mirror: %s", out)
	}
	// A library trusting nobody is told what to do.
	if out := c.ok("get", url, "--library", "lib3"); !strings.Contains(out, "ferry trust add") {
		t.Fatalf("untrusted get: %s", out)
	}
	// Bad calls.
	c.run(2, "", "get")
	c.run(1, "", "get", "ftp://example.invalid/")
	c.run(2, "", "mirror", "serve")
	c.run(1, "", "publish", "-c", "missing.toml")
}

// TestPublishS3 runs the commands against an S3 store on a real SeaweedFS:
// ferry publish into s3:// with the endpoint and keys from the AWS_*
// variables, ferry mirror serve of the bucket, ferry get and ferry mirror
// pull from that mirror. Skips without the SeaweedFS binary.
func TestPublishS3(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	c := newCLI(t)
	c.ok("keygen", "-o", "news")
	site := c.site("site", corpus.Options{Pages: 15, Seed: 5, Pictures: true})
	loc := srv.URL("cli")
	cfg := publishtest.Config(t, c.dir, "ferry.toml", "state", publishtest.Channel{
		Name: "news", Title: "소식", Key: "news.key", Store: loc, Sources: []string{`path = "` + site + `"`},
	})
	if out := c.ok("publish", "-c", cfg); !strings.Contains(out, "news: published edition 1 to "+loc) {
		t.Fatalf("publish into S3: %s", out)
	}
	if out := c.ok("publish", "-c", cfg); !strings.Contains(out, "nothing changed since edition 1") {
		t.Fatalf("second publish into S3: %s", out)
	}
	addr := freePort(t)
	serveInProcess(t, "", []string{"mirror", "serve", loc, "--addr", addr}, "http://"+addr+"/catalog.opds.xml")
	url := "http://" + addr + "/"
	c.ok("trust", "add", "news.pub", "--library", "lib")
	if out := c.ok("get", url, "--library", "lib"); !strings.Contains(out, "news: now at edition 1") {
		t.Fatalf("get from the S3 mirror: %s", out)
	}
	if out := c.ok("mirror", "pull", url, "copy", "--trust", "news.pub"); !strings.Contains(out, "1 channel mirrored") {
		t.Fatalf("pull from the S3 mirror: %s", out)
	}
	c.ok("verify", "--trust", "news.pub", filepath.Join("copy", "news", "editions", "000001.ferry"))
}
