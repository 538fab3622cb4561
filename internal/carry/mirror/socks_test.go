package mirror

import (
	"context"
	"testing"

	"ferry/internal/testkit/socks5"
)

// TestGetSOCKS5: with a socks5:// proxy every connection to the mirror
// goes through it (a minimal SOCKS5 server on loopback), and the reader
// gets the edition.
func TestGetSOCKS5(t *testing.T) {
	w := newWorld(t, 10)
	url := w.serve(t)
	px := socks5.Start(t)
	o, err := Open(context.Background(), url, OpenOptions{Proxy: "socks5://" + px.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	lib := w.reader(t, true)
	res, err := Get(context.Background(), o, GetOptions{Library: lib})
	if err != nil || presents(t, lib, "news") != 1 || px.Conns() == 0 || res.Bytes != w.ix.Edition(1).Full.Size {
		t.Fatalf("%v: edition %d, %d bytes, %d SOCKS connections", err, presents(t, lib, "news"), res.Bytes, px.Conns())
	}
	// A proxy that is not there: a clear error, nothing fetched.
	px.Close()
	o, _ = Open(context.Background(), url, OpenOptions{Proxy: "socks5://" + px.Addr()})
	if _, err := Get(context.Background(), o, GetOptions{Library: w.reader(t, true)}); err == nil {
		t.Fatal("a get through a closed proxy succeeded")
	}
}
