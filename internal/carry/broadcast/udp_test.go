package broadcast

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestUDPLoopback(t *testing.T) {
	data := testArchives(t)
	var srcs []*Source
	for _, d := range data {
		s, err := NewSource(d, 1024)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	ln, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, err := net.Dial("udp", ln.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		pace := NewPacer(20 << 20)
		// Several rounds: loopback UDP may drop datagrams under load.
		Send(srcs, SendOptions{Repair: 0.3, Rounds: 20}, func(p []byte) error {
			if err := pace.Wait(ctx, len(p)); err != nil {
				return err
			}
			out.Write(p)
			return nil
		})
	}()
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	if err := ReceiveUDP(ctx, ln, r, true, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !r.AllDone() {
		t.Fatalf("not done: %+v", r.Status())
	}
	cancel()
	checkLibrary(t, lib, data)
}
