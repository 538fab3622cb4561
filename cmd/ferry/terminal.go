package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"

	"ferry/internal/progress"
)

// safeWriter passes text to a terminal with every control character shown
// as an escape (\x1b, \u202e) instead of sent: names, titles and paths come
// from archives and cards anyone can make, and a channel name holding
// "\r\x1b[2K\x1b[32madded…" must not turn a refusal into a green "added"
// line. Newlines and tabs pass. An incomplete UTF-8 sequence at the end
// of a write is held for the next.
type safeWriter struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte
}

func (s *safeWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := append(s.tail, p...)
	s.tail = nil
	var out []byte
	for len(b) > 0 {
		if !utf8.FullRune(b) && len(b) < utf8.UTFMax {
			s.tail = append([]byte(nil), b...)
			break
		}
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\n' || r == '\t':
			out = append(out, b[0])
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, b[0])
		case unsafeRune(r):
			if r < 0x100 {
				out = fmt.Appendf(out, `\x%02x`, r)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		default:
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unsafeRune reports the runes a terminal acts on or that reorder text:
// C0 and C1 controls, DEL, and the Unicode direction overrides and
// isolates.
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// clean is a string from outside (an archive, a card) made safe to show on
// a terminal in the same way.
func clean(s string) string {
	var b strings.Builder
	w := &safeWriter{w: &b}
	io.WriteString(w, s)
	return b.String()
}

// osTerminal is the process's own terminal.
func osTerminal() *terminal {
	tty := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	return &terminal{out: &safeWriter{w: os.Stdout}, err: &safeWriter{w: os.Stderr}, in: os.Stdin,
		raw: os.Stdout, rawErr: os.Stderr, tty: tty}
}

// bytesOut is where a command writes bytes the user asked for as they are
// ('ferry cat'): the raw standard output.
func (t *terminal) bytesOut() io.Writer {
	if t.raw != nil {
		return t.raw
	}
	return t.out
}

// bar starts a progress bar on the terminal's error stream: redrawn on a
// terminal, plain lines every few seconds otherwise. The label is cleaned.
func (t *terminal) bar(label string, unitBytes bool) *progress.Bar {
	w := t.rawErr
	if w == nil {
		w = t.err
	}
	return progress.NewTo(w, t.tty, clean(label), unitBytes)
}

// printf writes to the terminal's output.
func (t *terminal) printf(format string, args ...any) { fmt.Fprintf(t.out, format, args...) }

// warnf writes a warning to the terminal's error stream.
func (t *terminal) warnf(format string, args ...any) {
	fmt.Fprintf(t.err, "warning: "+format+"\n", args...)
}

// reader is the terminal's input as lines, made once: a command that asks
// twice reads the second answer where the first ended.
func (t *terminal) reader() *bufio.Reader {
	t.inOnce.Do(func() { t.inBuf = bufio.NewReader(t.in) })
	return t.inBuf
}

// askYes asks a yes/no question; anything but y or yes (Korean 예 or 네
// too) is no.
func (t *terminal) askYes(question string) bool {
	fmt.Fprintf(t.err, "%s [y/N] ", question)
	line, _ := t.reader().ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "예", "네":
		return true
	}
	return false
}

// readPassphrase reads one passphrase without echo on a terminal, or one
// line of the input otherwise (for scripts).
func (t *terminal) readPassphrase(prompt string) (string, error) {
	if f, ok := t.in.(*os.File); ok && t.tty && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(t.err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(t.err)
		return string(b), err
	}
	line, err := t.reader().ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading passphrase: %w (give it on standard input)", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// count says n things in English with the right plural: "1 archive", "3 archives".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "y") && !strings.HasSuffix(thing, "ey") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(thing, "y"))
	}
	if strings.HasSuffix(thing, "s") || strings.HasSuffix(thing, "ch") {
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
