package harvest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"ferry/internal/testkit/socks5"
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
	px := socks5.Start(t)
	o := testOptions(t)
	o.Proxy = "socks5://" + px.Addr()
	o.AllowPrivate = false
	sum, _ := harvestOnce(t, o, Source{Kind: Site, URL: or.URL + "/a.html"})
	if sum.Fetched != 2 || px.Conns() == 0 {
		t.Errorf("fetched %d, %d SOCKS connections", sum.Fetched, px.Conns())
	}
	if or.count("/a.html") != 1 {
		t.Error("page not reached through the proxy")
	}
}
