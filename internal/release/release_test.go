package release

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"ferry/internal/key"
)

// TestReproducible builds a program twice with the release flags, in two
// folders, and gets the same bytes (FERRY_CROSS=all builds ferry itself
// for every target in cmd/ferry's TestCrossCompile).
func TestReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no builds")
	}
	ctx := context.Background()
	targets := []Target{{OS: runtime.GOOS, Arch: runtime.GOARCH}}
	if os.Getenv("FERRY_CROSS") == "all" {
		targets = append(targets, Target{OS: "windows", Arch: "386"}, Target{OS: "linux", Arch: "arm", ARM: "7"})
	}
	for _, tg := range targets {
		a, b := t.TempDir(), t.TempDir()
		fa, err := Build(ctx, ".", "./testdata/hello", a, tg, "v1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		fb, err := Build(ctx, ".", "./testdata/hello", b, tg, "v1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		ba, _ := os.ReadFile(fa)
		bb, _ := os.ReadFile(fb)
		if len(ba) == 0 || !bytes.Equal(ba, bb) {
			t.Fatalf("%s: two builds differ (%d and %d bytes)", tg, len(ba), len(bb))
		}
		if bytes.Contains(ba, []byte(a)) || bytes.Contains(ba, []byte(os.Getenv("HOME"))) {
			t.Errorf("%s: the program names a path of this machine", tg)
		}
	}
}

func TestSignVerifyCopy(t *testing.T) {
	dir := t.TempDir()
	k, _ := key.Generate()
	other, _ := key.Generate()
	var files []string
	for _, tg := range Targets[:3] {
		p := filepath.Join(dir, tg.FileName())
		os.WriteFile(p, []byte("program for "+tg.String()), 0o755)
		files = append(files, p)
	}
	if err := Sign(dir, files, nil, k); err != nil {
		t.Fatal(err)
	}
	trusts := func(want key.Public) Trusted {
		return func(ks []key.Public, _ map[string]json.RawMessage) bool {
			for _, x := range ks {
				if x == want {
					return true
				}
			}
			return false
		}
	}
	v, err := Verify(dir, trusts(k.Public()))
	if err != nil || len(v.Files) != 3 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	if _, err := Verify(dir, trusts(other.Public())); !errors.Is(err, ErrList) {
		t.Fatalf("untrusted signer: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "programs")
	if _, err := Copy(dir, dst, trusts(k.Public())); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dst, Targets[0].FileName())); st == nil || st.Mode()&0o100 == 0 {
		t.Error("copied program lost its execute bit")
	}
	// The copy's README names every program and the device it is for.
	readme, err := os.ReadFile(filepath.Join(dst, ReadmeFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range Targets[:3] {
		if !bytes.Contains(readme, []byte(tg.FileName())) || !bytes.Contains(readme, []byte(tg.For)) {
			t.Errorf("README does not say %s is for %s", tg.FileName(), tg.For)
		}
	}
	if bytes.Contains(readme, []byte("<script")) || bytes.Contains(readme, []byte("http://")) && !bytes.Contains(readme, []byte("http://127.0.0.1:8080")) {
		t.Error("README has a script or an outside link")
	}
	// A changed program is refused, and named.
	os.WriteFile(filepath.Join(dir, Targets[1].FileName()), []byte("trojan"), 0o755)
	if _, err := Verify(dir, trusts(k.Public())); !errors.Is(err, ErrList) || !bytes.Contains([]byte(err.Error()), []byte(Targets[1].FileName())) {
		t.Fatalf("changed program: %v", err)
	}
	// An edited list no longer matches its signature.
	os.WriteFile(filepath.Join(dir, ListFile), []byte("0000000000000000000000000000000000000000000000000000000000000000  x\n"), 0o644)
	if _, err := Verify(dir, trusts(k.Public())); !errors.Is(err, ErrList) {
		t.Fatalf("edited list: %v", err)
	}
	// A signed list naming a path outside the folder is refused (a
	// publisher's key must not reach files beside the card's folder).
	list := []byte("0000000000000000000000000000000000000000000000000000000000000000  ../x\n")
	os.WriteFile(filepath.Join(dir, ListFile), list, 0o644)
	os.WriteFile(filepath.Join(dir, SigFile), []byte(sigHead+"\n"+k.Public().String()+" "+
		base64.RawURLEncoding.EncodeToString(k.Sign(append([]byte(sigLabel), list...)))+"\n"), 0o644)
	if _, err := Verify(dir, trusts(k.Public())); !errors.Is(err, ErrList) || !bytes.Contains([]byte(err.Error()), []byte("bad line")) {
		t.Fatalf("list with ../x: %v", err)
	}
}

// TestHostileFolder: a link to a device under a listed name is
// refused at once (it would block or read forever), and a destination that
// is a link to a folder elsewhere is not written through.
func TestHostileFolder(t *testing.T) {
	k, _ := key.Generate()
	trustAll := func([]key.Public, map[string]json.RawMessage) bool { return true }
	dir := t.TempDir()
	p := filepath.Join(dir, Targets[0].FileName())
	os.WriteFile(p, []byte("program"), 0o755)
	if err := Sign(dir, []string{p}, nil, k); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(t.TempDir(), "x")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	dst := filepath.Join(t.TempDir(), "programs")
	os.Symlink(elsewhere, dst)
	if _, err := Copy(dir, dst, trustAll); err == nil {
		t.Error("copied through a link")
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("%d files written through the link", len(ents))
	}
	os.Remove(p)
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Verify(dir, trustAll); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrList) {
			t.Errorf("a link to /dev/zero: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Verify reads a link to /dev/zero forever")
	}
}
