package main

import (
	"ferry/internal/library"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestParseTerminator: flags may follow positional arguments, and after
// "--" every argument is positional, even one that looks like a flag.
func TestParseTerminator(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  []string
		o    string
		v    bool
	}{
		{[]string{"a", "-o", "x", "b"}, []string{"a", "b"}, "x", false},
		{[]string{"a", "--", "-o", "-y"}, []string{"a", "-o", "-y"}, "", false},
		{[]string{"-v", "--", "-x"}, []string{"-x"}, "", true},
		{[]string{"-o", "x", "--", "--", "-v"}, []string{"--", "-v"}, "x", false},
		{[]string{"-o", "--", "a"}, []string{"a"}, "--", false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := fs.String("o", "", "")
		v := fs.Bool("v", false, "")
		pos, err := parse(fs, c.args)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !reflect.DeepEqual(pos, c.pos) || *o != c.o || *v != c.v {
			t.Errorf("%q: positional %q, -o %q, -v %v; want %q, %q, %v", c.args, pos, *o, *v, c.pos, c.o, c.v)
		}
	}
}

// TestBesideLibrary: a program started without arguments opens the
// library beside it (a double click on a card), and only a real one.
func TestBesideLibrary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	exe := filepath.Join(dir, "ferry-windows-amd64.exe")
	if got := besideLibrary(exe); got != nil {
		t.Fatalf("no library beside: %q", got)
	}
	lib := filepath.Join(dir, "ferry-library")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := besideLibrary(exe); got != nil {
		t.Fatalf("a folder without library.json: %q", got)
	}
	if err := os.WriteFile(filepath.Join(lib, library.StateFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := besideLibrary(exe); !reflect.DeepEqual(got, []string{"open", lib}) {
		t.Fatalf("beside a library: %q", got)
	}
	// In the programs folder of a card, which is a library.
	inCard := filepath.Join(lib, "programs", "ferry-linux-amd64")
	if got := besideLibrary(inCard); !reflect.DeepEqual(got, []string{"open", lib}) {
		t.Fatalf("in a card's programs folder: %q", got)
	}
}
