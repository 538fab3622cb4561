package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/internal/testkit/corpus"
)

// lockedBuffer is a bytes.Buffer two goroutines may use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSyncCommands: one library listens and shows a code, the other
// connects with it; each ends with what the other had, and says so in one
// line. A wrong code is refused with a message that says to check it; a
// sealed library (a file) is refused.
func TestSyncCommands(t *testing.T) {
	c := newCLI(t)
	c.site("news", corpus.Options{Pages: 10, Seed: 8, Pictures: true})
	c.site("books", corpus.Options{Pages: 6, Seed: 9})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", "--channel", "news", "--edition", "1", "news")
	c.ok("pack", "-k", "pub.key", "-o", "books.ferry", "--channel", "books", "--edition", "1", "books")
	for _, lib := range []string{"a", "b"} {
		c.ok("trust", "add", "pub.pub", "--library", lib)
	}
	c.ok("import", "news.ferry", "--library", "a")
	c.ok("import", "books.ferry", "--library", "b")

	addr := freePort(t)
	listen := func() (*lockedBuffer, chan int) {
		var out lockedBuffer
		term := &terminal{out: &safeWriter{w: &out}, err: &safeWriter{w: &out}, in: strings.NewReader("")}
		done := make(chan int, 1)
		go func() {
			done <- run(context.Background(), []string{"sync", "--listen", "--addr", addr, "--library", "a"}, term)
		}()
		return &out, done
	}
	shown := func(out *lockedBuffer) []string { // the command the listener tells the user to type
		re := regexp.MustCompile(`\n +ferry (sync [^\n]+)\n`)
		for i := 0; i < 200; i++ {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return strings.Fields(m[1])
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the listener shows no command: %s", out.String())
		return nil
	}
	codeOf := func(out *lockedBuffer) string {
		re := regexp.MustCompile(`Pairing code: (\d{4} \d{4})`)
		for i := 0; i < 200; i++ {
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return strings.ReplaceAll(m[1], " ", "")
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the listener shows no code: %s", out.String())
		return ""
	}

	out, done := listen()
	code := codeOf(out)
	if !strings.Contains(out.String(), "only this device can connect") || !strings.Contains(out.String(), "█") {
		t.Errorf("listener output: %s", out.String())
	}
	// A wrong code first: refused, and the listener waits on.
	wrong := "00000000"
	if code == wrong {
		wrong = "11111111"
	}
	c.run(1, "", "sync", addr, "--code", wrong, "--library", "b")
	if !strings.Contains(c.out, "check the code") {
		t.Errorf("wrong code: %s", c.out)
	}
	for i := 0; i < 200 && !strings.Contains(out.String(), "a connection failed"); i++ {
		time.Sleep(20 * time.Millisecond) // until the listener has seen the attempt end
	}
	// The command as shown, split as a shell splits it (the code's groups
	// unquoted).
	cmd := shown(out)
	if len(cmd) != 5 || cmd[1] != addr || cmd[2] != "--code" || cmd[3]+cmd[4] != code {
		t.Fatalf("the command shown: %q (code %s)", cmd, code)
	}
	got := c.ok(append(cmd, "--library", "b")...)
	if !strings.Contains(got, "sync: received 1 archive") || !strings.Contains(got, "sent 1 archive") || !strings.Contains(got, "on the wire") {
		t.Errorf("dialler summary: %s", got)
	}
	if st := <-done; st != 0 {
		t.Fatalf("listener exit %d: %s", st, out.String())
	}
	if !strings.Contains(out.String(), "sync: received 1 archive") {
		t.Errorf("listener summary: %s", out.String())
	}
	for _, lib := range []string{"a", "b"} {
		if l := c.ok("library", "list", "--library", lib); !strings.Contains(l, "news") || !strings.Contains(l, "books") {
			t.Errorf("library %s after sync: %s", lib, l)
		}
	}
	// The QR code's text works in place of HOST:PORT and --code.
	out, done = listen()
	code = codeOf(out)
	got = c.ok("sync", "FERRY-SYNC:"+addr+"/"+code, "--library", "b")
	if !strings.Contains(got, "received 0 archives") {
		t.Errorf("second sync: %s", got)
	}
	<-done
	c.run(2, "", "sync", "--library", "b")
	os.WriteFile("sealed.bin", make([]byte, 4096), 0o600)
	if out := c.run(1, "", "sync", "--listen", "--library", "sealed.bin"); !strings.Contains(out, "sealed") {
		t.Errorf("sealed library: %s", out)
	}
}
