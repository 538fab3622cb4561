package browser

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Trap is a loopback listener that stands for "a server elsewhere": the
// hostile pages point at it, and a test that opens them must find that it
// was never reached. It counts TCP connections, not only HTTP requests,
// so a preconnect or a request cut short counts too.
type Trap struct {
	ln    net.Listener
	hits  atomic.Int64
	mu    sync.Mutex
	lines []string
}

// NewTrap starts a trap on 127.0.0.1, closed when the test ends.
func NewTrap(tb testing.TB) *Trap {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	t := &Trap{ln: ln}
	go t.serve()
	tb.Cleanup(func() { ln.Close() })
	return t
}

func (t *Trap) serve() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.hits.Add(1)
		go func() {
			defer c.Close()
			buf := make([]byte, 2048)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _ := c.Read(buf)
			if line, _, _ := strings.Cut(string(buf[:n]), "\r\n"); line != "" {
				t.mu.Lock()
				t.lines = append(t.lines, line)
				t.mu.Unlock()
			}
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		}()
	}
}

// Host is the trap's host:port.
func (t *Trap) Host() string { return t.ln.Addr().String() }

// Hits is the number of connections so far, and the first line of each
// request read on them (a connection may carry none: Chromium connects
// to the host of a navigation before its policy stops it).
func (t *Trap) Hits() (int64, []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hits.Load(), append([]string(nil), t.lines...)
}

// HostilePages returns pages (path → content) built to reach host H
// without a click: every vector known to have worked against a reader or
// an export at some point, and the plain ones. Each meta refresh is a page
// of its own (the first that worked would leave the others unseen); the
// loads are together on loads.html, the SVG vectors in pic.svg, which
// loads.html shows and which is also opened as a page.
func HostilePages(h string) map[string]string {
	u := "http://" + h
	pages := map[string]string{}
	refreshes := []string{
		`<meta http-equiv="refresh" content="0;url=` + u + `/r0">`,
		`<meta http-equiv="refresh" content="0; ` + u + `/r1">`,
		`<meta http-equiv="refresh" content="0;url=/&#9;/` + h + `/r2">`,
		`<meta http-equiv="refresh" content="0;url=/&#10;/` + h + `/r3">`,
		`<meta http-equiv="refresh" content="0;url=&#47;&#47;` + h + `/r4">`,
		`<meta http-equiv="refresh" content="0;url=/&#92;` + h + `/r5">`,
		`<meta http-equiv="refresh" content="0;url=http&#58;//` + h + `/r6">`,
		`<meta http-equiv="&#114;efresh" content="0;url=` + u + `/r7">`,
		`<meta data-x="url=ok.html" http-equiv="refresh" content="0;` + u + `/r8">`,
		`<meta data-a=">" http-equiv="refresh" content="0;url=` + u + `/r9">`,
		`<META HTTP-EQUIV=Refresh CONTENT="0; URL='//` + h + `/r10'">`,
		`<meta http-equiv="refresh" content="0;url=\\` + h + `\r11">`,
		`<noscript><meta http-equiv="refresh" content="0;url=` + u + `/r12"></noscript>`,
		`<meta http-equiv="refresh" content="0;url=http:/\` + h + `/r13">`,
	}
	for i, r := range refreshes {
		pages[fmt.Sprintf("refresh%02d.html", i)] = "<!DOCTYPE html><html><head><title>r</title>" + r + "</head><body><p>refresh " + fmt.Sprint(i) + "</p></body></html>"
	}
	pages["loads.html"] = `<!DOCTYPE html><html><head><title>loads</title>
<base href="` + u + `/base/">
<link rel="stylesheet" href="` + u + `/css1"><link rel="dns-prefetch" href="//` + h + `"><link rel="preconnect" href="` + u + `">
<link rel="prefetch" href="` + u + `/pf"><link rel="icon" href="` + u + `/icon">
<style>@import "` + u + `/imp1"; @import url(` + u + `/imp2);
body { background: url(` + u + `/bg1); }
.a { background-image: image-set("` + u + `/is1" 1x); }
.b { background-image: -webkit-image-set(url(` + u + `/is2) 1x); }
.c { background: \75 rl(` + u + `/esc1); }
.d { background: u\72l(` + u + `/esc2); }
.e { cursor: url(` + u + `/cur), auto; list-style: url(` + u + `/ls); }
@font-face { font-family: x; src: url(` + u + `/font); } .f { font-family: x; }
</style>
<script>new Image().src = "` + u + `/script1";</script>
<script src="` + u + `/script2"></script>
</head><body onload="new Image().src='` + u + `/onload'">
<p class="a b c d e f">text</p>
<img src="` + u + `/img1"><img src="//` + h + `/img2"><img src="http:/\` + h + `/img3"><img src="http:\\` + h + `/img4">
<img src="http:` + h + `/img5"><img src="\\` + h + `/img6"><img src="/\` + h + `/img7"><img src=" ` + u + `/img8">
<img src="ht&#9;tp://` + h + `/img9"><img src="&#104;ttp://` + h + `/img10"><img srcset="` + u + `/ss1 1x, //` + h + `/ss2 2x">
<picture><source srcset="` + u + `/src1"><img src="pic.svg" alt=""></picture>
<video poster="` + u + `/poster" src="` + u + `/video"></video><audio src="` + u + `/audio"></audio>
<input type="image" src="` + u + `/inimg"><table background="` + u + `/tbg"><tr><td>x</td></tr></table>
<div style="background:url(` + u + `/st1)">s</div><div style="background-image:image-set('` + u + `/st2' 1x)">s</div>
<div style="background:\75rl(` + u + `/st3)">s</div>
<iframe src="` + u + `/frame"></iframe><object data="` + u + `/obj"></object><embed src="` + u + `/emb">
<svg width="10" height="10"><image href="` + u + `/svgimg" width="10" height="10"/><use href="` + u + `/use#x"/></svg>
<img src="pic.svg" alt=""><object data="pic.svg" type="image/svg+xml"></object>
<a href="` + u + `/click" ping="` + u + `/ping">a link one must click</a>
</body></html>`
	pages["pic.svg"] = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">
<style>@import url(` + u + `/svgimport); rect { fill: url(` + u + `/svgfill#g); }</style>
<script>new Image().src = "` + u + `/svgscript";</script>
<image href="` + u + `/svgimage1" width="10" height="10"/><image xlink:href="` + u + `/svgimage2" width="10" height="10"/>
<rect width="10" height="10" onload="new Image().src='` + u + `/svgonload'"/>
<foreignObject width="40" height="40"><div xmlns="http://www.w3.org/1999/xhtml"><img src="` + u + `/fo"/><iframe src="` + u + `/foframe"></iframe></div></foreignObject>
</svg>`
	return pages
}
