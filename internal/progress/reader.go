package progress

import "io"

// Reader counts the bytes read through it: N is the total so far, and
// Report, if set, is told it after every read that returned bytes (a
// download's or upload's progress).
type Reader struct {
	R      io.Reader
	N      int64
	Report func(n int64)
}

func (c *Reader) Read(b []byte) (int, error) {
	n, err := c.R.Read(b)
	c.N += int64(n)
	if n > 0 && c.Report != nil {
		c.Report(c.N)
	}
	return n, err
}
