package reader

import (
	"bytes"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// safetyHeaders are set on every response, ferry's own and archive
// content alike (the content security policy is chosen per response).
var safetyHeaders = [][2]string{
	{"Cache-Control", "no-store"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Content-Type-Options", "nosniff"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	// Chromium looks host names in pages up ahead of time unless told not
	// to; such a look-up would tell a name server what is read.
	{"X-DNS-Prefetch-Control", "off"},
}

func setSafety(h http.Header) {
	for _, kv := range safetyHeaders {
		h.Set(kv[0], kv[1])
	}
}

// Listener wraps ln so that the replies Go's HTTP server writes by itself,
// without calling any handler (400 for a malformed Host or request line,
// 431 for oversized headers, 505), carry the same safety headers as the
// reader's own. Serve the reader on it:
//
//	srv.Serve(reader.Listener(ln))
func Listener(ln net.Listener) net.Listener { return safeListener{ln} }

type safeListener struct{ net.Listener }

func (l safeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &safeConn{Conn: c}, nil
}

// safeConn recognises the server's own error replies: net/http writes each
// in a single Write straight to the connection, as a status line followed
// at once by "Content-Type: text/plain; charset=utf-8" and
// "Connection: close". Replies from the handler never start that way: the
// server writes header names in sorted order, and every reply of the
// reader has Cache-Control and Content-Security-Policy, which sort first.
type safeConn struct {
	net.Conn
	mu sync.Mutex
}

var serverErrorHead = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n")

// serverErrorHeaders is what goes after the status line of those replies.
var serverErrorHeaders = func() []byte {
	var b bytes.Buffer
	hs := append([][2]string{{"Content-Security-Policy", uiCSP}}, safetyHeaders...)
	sort.Slice(hs, func(i, j int) bool { return hs[i][0] < hs[j][0] })
	for _, kv := range hs {
		b.WriteString("\r\n" + kv[0] + ": " + kv[1])
	}
	return b.Bytes()
}()

func (c *safeConn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("HTTP/1.")) {
		if eol := bytes.Index(p, []byte("\r\n")); eol > 0 && bytes.HasPrefix(p[eol:], serverErrorHead) {
			out := make([]byte, 0, len(p)+len(serverErrorHeaders))
			out = append(out, p[:eol]...)
			out = append(out, serverErrorHeaders...)
			out = append(out, p[eol:]...)
			c.mu.Lock()
			defer c.mu.Unlock()
			if _, err := c.Conn.Write(out); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.Write(p)
}

// crossSite reports a request made by another web page open in the same
// browser: Sec-Fetch-Site says so in current browsers; older ones (before
// Chrome 76, Firefox 90) send only Origin or Referer, which must then name
// this very origin. A request with none of them is a typed address, a
// bookmark or ferry open, and is served.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		host, ok := strings.CutPrefix(o, "http://")
		return !ok || !strings.EqualFold(host, r.Host)
	}
	// Old browsers also name the page that asked in Referer (unless it
	// hides itself; the reader's own pages send none).
	if ref := r.Header.Get("Referer"); ref != "" {
		rest, ok := strings.CutPrefix(ref, "http://")
		host, _, _ := strings.Cut(rest, "/")
		return !ok || !strings.EqualFold(host, r.Host)
	}
	return false
}
