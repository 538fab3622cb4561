package reader

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// postForm runs a POST of form fields through the handler, as the
// reader's own page sends it.
func postForm(h http.Handler, target string, form url.Values, hdr ...string) *http.Response {
	req, _ := http.NewRequest("POST", "http://127.0.0.1:8080"+target, strings.NewReader(form.Encode()))
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := newRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

var pairingRE = regexp.MustCompile(`ferry sync (FERRY-SYNC:([0-9.:\[\]a-f]+)/(\d+))`)

// TestShareStartsOnlyWhenAsked: the share page listens for nothing until
// its button is pressed; a POST without the page's secret, or from
// another site, starts nothing; once started it shows the code, the QR
// code and the loopback address with a warning that a friend cannot
// reach it; Stop closes the socket.
func TestShareStartsOnlyWhenAsked(t *testing.T) {
	// Without a library folder: the command to run, no button.
	body := do(New([]Library{Sample()}, Options{}), "GET", "/en/share").Body.String()
	if !strings.Contains(body, "ferry sync --listen --addr 0.0.0.0:4040 --library LIBRARY-FOLDER") || strings.Contains(body, "/share/start") {
		t.Errorf("share page without a library:\n%s", body)
	}

	h := New([]Library{Sample()}, Options{ShareLibrary: t.TempDir()})
	defer h.Close()
	body = do(h, "GET", "/en/share").Body.String()
	m := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `action="/en/share/start" method="post"`) || !strings.Contains(body, "(127.0.0.1)") {
		t.Fatalf("share page has no start form or does not say where it listens:\n%s", body)
	}
	token := m[1]
	if pairingRE.MatchString(body) {
		t.Fatal("a code is shown before sharing was started")
	}
	// Refused: no secret, a wrong one, another site.
	for _, tc := range []struct {
		form url.Values
		hdr  []string
	}{
		{url.Values{}, nil},
		{url.Values{"t": {"x" + token}}, nil},
		{url.Values{"t": {token}}, []string{"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"}},
	} {
		if resp := postForm(h, "/en/share/start", tc.form, tc.hdr...); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %v %v: %d, want 403", tc.form, tc.hdr, resp.StatusCode)
		}
	}
	if pairingRE.MatchString(do(h, "GET", "/en/share").Body.String()) {
		t.Fatal("a refused POST started sharing")
	}
	resp := postForm(h, "/en/share/start", url.Values{"t": {token}}, "Origin", "http://127.0.0.1:8080")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/en/share" {
		t.Fatalf("start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	w := do(h, "GET", "/en/share")
	body = w.Body.String()
	p := pairingRE.FindStringSubmatch(body)
	if p == nil {
		t.Fatalf("no pairing shown:\n%s", body)
	}
	addr, code := p[2], p[3]
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("listens on %s, want loopback", addr)
	}
	if !strings.Contains(body, code[:4]+" "+code[4:]) && !strings.Contains(body, code[:3]+" "+code[3:]) {
		t.Errorf("code %s not shown", code)
	}
	if !strings.Contains(body, `src="data:image/png;base64,`) || !strings.Contains(body, "a friend&#39;s device cannot reach it") ||
		!strings.Contains(body, `<meta http-equiv="refresh" content="5">`) {
		t.Errorf("share page while listening:\n%s", body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
		t.Errorf("the QR code's data: picture is not allowed by %q", csp)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("nothing listens on %s: %v", addr, err)
	}
	c.Close()
	// Starting again while running changes nothing.
	postForm(h, "/en/share/start", url.Values{"t": {token}})
	if q := pairingRE.FindStringSubmatch(do(h, "GET", "/en/share").Body.String()); q == nil || q[3] != code {
		t.Error("a second start changed the code")
	}
	if resp := postForm(h, "/en/share/stop", url.Values{"t": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("stop: %d", resp.StatusCode)
	}
	body = do(h, "GET", "/en/share").Body.String()
	if pairingRE.MatchString(body) || !strings.Contains(body, "Received 0 editions") || !strings.Contains(body, "/share/start") {
		t.Errorf("after stop:\n%s", body)
	}
	var dialErr error
	for i := 0; i < 50; i++ {
		var c net.Conn
		if c, dialErr = net.DialTimeout("tcp", addr, time.Second); dialErr != nil {
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if dialErr == nil {
		t.Errorf("%s still accepts connections after stop", addr)
	}
}

// TestShareOnNetworkAddress: a reader started on a network address
// would share on that host, and says so before anything listens (the
// test never starts it: tests listen on loopback only).
func TestShareOnNetworkAddress(t *testing.T) {
	h := New([]Library{Sample()}, Options{ShareLibrary: t.TempDir(), ShareHost: "0.0.0.0"})
	defer h.Close()
	body := do(h, "GET", "/en/share").Body.String()
	if !strings.Contains(body, "This ferry listens on 0.0.0.0") || strings.Contains(body, "inside this device only") {
		t.Errorf("share page does not say where it will listen:\n%s", body)
	}
	h2 := New([]Library{Sample()}, Options{ShareLibrary: t.TempDir(), ShareHost: "127.0.0.2"})
	if body := do(h2, "GET", "/en/share").Body.String(); !strings.Contains(body, "inside this device only") {
		t.Errorf("a loopback host is not said to be this device only:\n%s", body)
	}
}
