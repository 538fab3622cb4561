package harvest

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestHTTPProxy harvests through a forward HTTP proxy on loopback. The
// private-address guard stays on: it applies to the proxy the publisher
// chose, not to what the proxy reaches.
func TestHTTPProxy(t *testing.T) {
	or := newOrigin(t)
	var n atomic.Int64
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer px.Close()
	o := testOptions(t)
	o.Proxy = px.URL
	o.AllowPrivate = false
	sum, _ := harvestOnce(t, o, Source{Kind: Site, URL: or.URL + "/a.html"})
	if sum.Fetched != 2 || n.Load() != 2 { // robots.txt and the page
		t.Errorf("fetched %d, proxy saw %d requests", sum.Fetched, n.Load())
	}
}

// TestSOCKS5Proxy harvests through a minimal SOCKS5 server on loopback.
func TestSOCKS5Proxy(t *testing.T) {
	or := newOrigin(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go socks5(c)
		}
	}()
	o := testOptions(t)
	o.Proxy = "socks5://" + l.Addr().String()
	o.AllowPrivate = false
	sum, _ := harvestOnce(t, o, Source{Kind: Site, URL: or.URL + "/a.html"})
	if sum.Fetched != 2 || n.Load() == 0 {
		t.Errorf("fetched %d, %d SOCKS connections", sum.Fetched, n.Load())
	}
	if or.count("/a.html") != 1 {
		t.Error("page not reached through the proxy")
	}
}

// socks5 serves one SOCKS5 CONNECT without authentication (RFC 1928).
func socks5(c net.Conn) {
	defer c.Close()
	b := make([]byte, 262)
	if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, b[:b[1]]); err != nil {
		return
	}
	c.Write([]byte{5, 0})
	if _, err := io.ReadFull(c, b[:4]); err != nil || b[1] != 1 {
		return
	}
	var host string
	switch b[3] {
	case 1:
		io.ReadFull(c, b[:4])
		host = net.IP(b[:4]).String()
	case 3:
		io.ReadFull(c, b[:1])
		l := int(b[0])
		io.ReadFull(c, b[:l])
		host = string(b[:l])
	default:
		return
	}
	io.ReadFull(c, b[:2])
	port := binary.BigEndian.Uint16(b[:2])
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	go io.Copy(up, c)
	io.Copy(c, up)
}
