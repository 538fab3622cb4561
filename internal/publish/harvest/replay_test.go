package harvest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// outFiles reads a harvest's output folder.
func outFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReplay: two harvests of the origin (the second mostly 304s, recorded
// as revisits), then the origin is gone and a harvest from their two WARCs
// alone writes the same output, byte for byte, with the same URLs failed
// and skipped: the WARCs kept with an edition rebuild it offline. The
// second WARC alone cannot: its revisits name captures it does not hold.
func TestReplay(t *testing.T) {
	or := newOrigin(t)
	o := testOptions(t)
	src := Source{Kind: Site, URL: or.URL + "/", Depth: 2, Sitemap: true, Resources: true, Exclude: []string{"/skip/**", "/slow.html"}}
	sum1, _ := harvestOnce(t, o, src)
	sum2, events2 := harvestOnce(t, o, src)
	if sum2.Unchanged < 10 {
		t.Fatalf("second harvest: %d unchanged", sum2.Unchanged)
	}
	want := outFiles(t, o.Out)
	or.Close()

	rp, err := NewReplay(sum1.WARC, sum2.WARC)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Revisits < sum2.Unchanged || rp.Responses < sum1.Requests {
		t.Errorf("replay read %d responses and %d revisits of %d + %d requests", rp.Responses, rp.Revisits, sum1.Requests, sum2.Requests)
	}
	o3 := testOptions(t)
	o3.Transport = rp
	sum3, events3 := harvestOnce(t, o3, src)
	got := outFiles(t, o3.Out)
	for f, b := range want {
		if !bytes.Equal(got[f], b) {
			t.Errorf("%s differs after the replay (%d bytes, %d before)", f, len(got[f]), len(b))
		}
	}
	for f := range got {
		if want[f] == nil {
			t.Errorf("%s only after the replay", f)
		}
	}
	if len(sum3.Pages) != len(sum2.Pages) {
		t.Errorf("replay made %d pages, the harvest %d", len(sum3.Pages), len(sum2.Pages))
	}
	for _, e := range events2 {
		r := findEvent(events3, e.URL)
		switch {
		case r == nil:
			t.Errorf("%s: not asked for in the replay", e.URL)
		case e.Result == Unchanged && r.Result != Fetched, e.Result != Unchanged && r.Result != e.Result:
			t.Errorf("%s: %s in the harvest, %s (%v) in the replay", e.URL, e.Result, r.Result, r.Err)
		}
	}
	for _, path := range []string{"/huge.html", "/bomb.html", "/err500.html"} {
		if e := findEvent(events3, or.URL+path); e == nil || e.Result != Failed {
			t.Errorf("%s in the replay: %+v", path, e)
		}
	}

	// The second WARC alone: the unchanged start page is not in it.
	rp2, err := NewReplay(sum2.WARC)
	if err != nil {
		t.Fatal(err)
	}
	o4 := testOptions(t)
	o4.Transport = rp2
	_, events4 := harvestOnce(t, o4, src)
	if e := findEvent(events4, or.URL+"/"); e == nil || !errors.Is(e.Err, ErrNotCaptured) {
		t.Errorf("a revisit without its capture: %+v", e)
	}

	if _, err := NewReplay(filepath.Join(t.TempDir(), "none.warc.gz")); err == nil {
		t.Error("a missing WARC was read")
	}
}

// FuzzReplay feeds hostile bytes to the replay's WARC reading and answers
// every URL it took from them: errors, never a panic or a hang.
func FuzzReplay(f *testing.F) {
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.example/\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n" +
		"WARC-Record-ID: <urn:uuid:12345678-1234-1234-1234-123456789abc>\r\nContent-Type: application/http;msgtype=response\r\n" +
		"Content-Length: 38\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Target-URI: http://a.example/\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &Replay{caps: map[string]*capture{}}
		var kept int64
		_ = r.readFrom(bytes.NewReader(b), &kept)
		for u := range r.caps {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				continue
			}
			if resp, err := r.RoundTrip(req); err == nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
		}
	})
}
