// Package progress shows how far a long operation has come: a redrawn bar
// on a terminal, plain lines every few seconds otherwise (logs, pipes).
// Library packages never print; they call a Func, and commands decide how
// it is shown.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Func receives progress: done and total units (total may be 0 if unknown).
type Func func(done, total int64)

// Bar prints progress of one operation to w.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	bytes    bool
	tty      bool
	start    time.Time
	last     time.Time
	done     int64
	total    int64
	finished bool
}

// New returns a bar labelled label writing to stderr. unitBytes says whether
// the units are bytes (shown as MB with a rate) or items.
func New(label string, unitBytes bool) *Bar {
	return NewTo(os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), label, unitBytes)
}

// NewTo returns a bar writing to w; tty selects the redrawn bar.
func NewTo(w io.Writer, tty bool, label string, unitBytes bool) *Bar {
	now := time.Now()
	return &Bar{w: w, tty: tty, label: label, bytes: unitBytes, start: now, last: now}
}

// Update sets the progress; it is a Func.
func (b *Bar) Update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.total = done, total
	now := time.Now()
	every := 3 * time.Second
	if b.tty {
		every = 150 * time.Millisecond
	}
	if now.Sub(b.last) < every {
		return
	}
	b.last = now
	b.print(false)
}

// Done prints the final state.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.print(true)
}

func (b *Bar) amount(n int64) string {
	if b.bytes {
		return Bytes(n)
	}
	return fmt.Sprint(n)
}

func (b *Bar) print(final bool) {
	el := time.Since(b.start).Seconds()
	var s strings.Builder
	s.WriteString(b.label)
	s.WriteString(" ")
	if b.total > 0 {
		frac := min(float64(b.done)/float64(b.total), 1)
		if b.tty {
			const width = 24
			n := int(frac * width)
			s.WriteString("[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] ")
		}
		fmt.Fprintf(&s, "%3.0f%% %s/%s", frac*100, b.amount(b.done), b.amount(b.total))
	} else {
		s.WriteString(b.amount(b.done))
	}
	if el > 0 && b.done > 0 {
		rate := float64(b.done) / el
		if b.bytes {
			fmt.Fprintf(&s, " %s/s", Bytes(int64(rate)))
		} else {
			s.WriteString(" " + perSecond(rate))
		}
		if b.total > b.done && !final {
			left := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
			fmt.Fprintf(&s, " %s left", left.Round(time.Second))
		}
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", s.String())
		if final {
			fmt.Fprintln(b.w)
		}
	} else {
		fmt.Fprintln(b.w, s.String())
	}
}

// perSecond formats a count rate: whole numbers from 10/s, one decimal
// below, and per minute below 1/s (a slow step must not show "0/s").
func perSecond(rate float64) string {
	switch {
	case rate >= 10:
		return fmt.Sprintf("%.0f/s", rate)
	case rate >= 1:
		return fmt.Sprintf("%.1f/s", rate)
	default:
		return fmt.Sprintf("%.1f/min", rate*60)
	}
}

// Bytes formats a byte count for people (1.5 MB).
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f PB", f/unit)
}
