package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/library"
	"ferry/internal/testkit/shared"
)

// TestLibraryCommands runs the publisher → card → reader round trip through
// the commands: keys and a certificate, a delta, untrusted refusal (exit 4),
// trust, import, inventory, export since the inventory, compact, rollback.
func TestLibraryCommands(t *testing.T) {
	udhr := shared.Path(t, "udhr")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	var stderr strings.Builder
	ferry := func(want int, args ...string) {
		t.Helper()
		stderr.Reset()
		if got := run(context.Background(), args, &stderr); got != want {
			t.Fatalf("ferry %s: exit %d, want %d\n%s", strings.Join(args, " "), got, want, stderr.String())
		}
	}
	ferry(0, "keygen", "-o", p("root"))
	ferry(0, "keygen", "-o", p("sign"))
	ferry(0, "trust", "certify", "-k", p("root.key"), "-o", p("sign.cert"), p("sign.pub"))
	src2 := p("src2")
	os.MkdirAll(src2, 0o755)
	ents, _ := os.ReadDir(udhr)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".html") && e.Name() != "rus.html" {
			b, _ := os.ReadFile(filepath.Join(udhr, e.Name()))
			if e.Name() == "kor.html" {
				b = append(b, "<p>개정판</p>"...)
			}
			os.WriteFile(filepath.Join(src2, e.Name()), b, 0o644)
		}
	}
	ferry(0, "pack", "-k", p("root.key"), "-o", p("e1.ferry"), "--channel", "udhr", "--edition", "1", udhr)
	ferry(0, "pack", "-k", p("sign.key"), "-o", p("e2.ferry"), "--channel", "udhr", "--edition", "2", src2)
	ferry(0, "delta", p("e1.ferry"), p("e2.ferry"), "-o", p("d2.ferry"), "-k", p("sign.key"), "--cert", p("sign.cert"))

	lib, lib2, card := p("lib"), p("lib2"), p("card")
	ferry(4, "import", p("e1.ferry"), "--library", lib)
	if !strings.Contains(stderr.String(), "ferry trust add ferry-pub-v1:") {
		t.Fatalf("untrusted import does not say how to trust: %s", stderr.String())
	}
	ferry(0, "trust", "add", p("root.pub"), "--name", "UN", "--library", lib)
	ferry(0, "trust", "list", "--library", lib)
	ferry(0, "import", p("e1.ferry"), "--library", lib)
	ferry(0, "trust", "add", p("root.pub"), "--library", lib2)
	ferry(0, "import", p("e1.ferry"), "--library", lib2)
	ferry(0, "inventory", "-o", p("inv.json"), "--library", lib2)
	ferry(0, "library", "add", p("d2.ferry"), "--library", lib)
	ferry(0, "library", "list", "--library", lib)
	ferry(0, "export", "--to", card, "--since-inventory", p("inv.json"), "--library", lib)
	files, _ := filepath.Glob(filepath.Join(card, "archives", "*.ferry"))
	if len(files) != 1 {
		t.Fatalf("card holds %d archives, want only the delta", len(files))
	}
	ferry(0, "import", card, "--library", lib2)
	o, err := library.Open(lib2, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.Channel("udhr")
	if c == nil || c.Edition != 2 || c.View == nil {
		t.Fatalf("reader library after the card: %+v", c)
	}
	if b, err := c.View.Cat("kor.html"); err != nil || !strings.Contains(string(b), "개정판") {
		t.Fatalf("kor.html of edition 2: %v", err)
	}
	o.Close()
	ferry(0, "compact", "--library", lib2, "--channel", "udhr", "-o", p("c2.ferry"), "-k", p("sign.key"))
	ferry(0, "verify", p("c2.ferry"))
	ferry(0, "import", p("e2.ferry"), "--library", p("lib3"), "--allow-untrusted")
	ferry(1, "import", p("e1.ferry"), "--library", p("lib3"), "--allow-untrusted")
	if !strings.Contains(stderr.String(), "edition 1 is older than edition 2") {
		t.Fatalf("rollback message: %s", stderr.String())
	}
	ferry(0, "library", "remove", "udhr", "--library", lib)
	ferry(0, "trust", "remove", "UN", "--library", lib)
	ferry(2, "trust")
}
