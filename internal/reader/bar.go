package reader

import (
	"bytes"
	"crypto/subtle"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"

	"ferry/internal/archive"
)

// The bar is ferry's strip at the top of every page: home, search, random
// page, the language and word-note switches and the hide button. Inside
// an archive's page it must look and work the same whatever the page's
// own style sheets say (docs/reader.md, "The bar"):
//
//   - it is made of custom elements (<ferry-bar>, <ferry-links>,
//     <ferry-warn>) that no page's type selectors (div, span, nav) match;
//   - its style sheet resets every property of the bar and everything in
//     it (all: initial) and sets each one again, all !important and
//     behind an ID, which beats any page rule that does not name the bar;
//   - the same rules come a second time inside @layer ferry-bar, and the
//     sheet is linked before any style sheet of the page, so that layer
//     comes first: important rules of the first layer beat the page's
//     important rules in later layers and outside layers (browsers
//     without @layer ignore that copy and keep the first);
//   - sizes are in px, so a page's root font size does not change them.

// barBody writes the bar for p. It is pure ASCII (everything else as
// character references), so it reads right whatever charset the page
// declares, and well-formed XML, so it fits XHTML pages.
func (h *Handler) barBody(p *page) []byte {
	var b bytes.Buffer
	esc := func(s string) { template.HTMLEscape(&b, []byte(s)) }
	warned := ""
	if p.Warn != "" {
		warned = ` class="fb-warned"`
	}
	b.WriteString(`<ferry-bar id="ferry-bar"` + warned + ` lang="`)
	esc(p.HTMLLang)
	b.WriteString(`" role="navigation" aria-label="`)
	esc(p.T["barLabel"])
	b.WriteString("\">\n<a class=\"fb-home\" href=\"")
	esc(p.URL("/"))
	b.WriteString(`" title="`)
	esc(p.T["home"])
	b.WriteString("\">ferry</a>\n<form class=\"fb-search\" action=\"")
	esc(p.URL("/search"))
	b.WriteString(`" method="get" role="search"><input type="search" name="q" id="fb-q" value="`)
	esc(p.Query)
	b.WriteString(`" placeholder="`)
	esc(p.T["searchHint"])
	b.WriteString(`" aria-label="`)
	esc(p.T["search"])
	b.WriteString(`" autocomplete="off" data-in="`)
	esc(p.In)
	b.WriteString(`" data-prefix="`)
	esc(p.set.prefix())
	b.WriteString(`" />`)
	if p.In != "" {
		b.WriteString(`<input type="hidden" name="in" value="`)
		esc(p.In)
		b.WriteString(`" />`)
	}
	b.WriteString(`<button type="submit">`)
	esc(p.T["search"])
	b.WriteString("</button>\n<ul id=\"fb-suggest\" class=\"fb-suggest\" hidden=\"hidden\" aria-label=\"")
	esc(p.T["suggestLabel"])
	b.WriteString("\"></ul></form>\n<ferry-links class=\"fb-go\"><a href=\"")
	esc(p.URL("/random", "in", p.In))
	b.WriteString(`">`)
	esc(p.T["random"])
	b.WriteString("</a></ferry-links>\n<ferry-links class=\"fb-set\">")
	for _, s := range p.Switches() {
		b.WriteString(`<a class="fb-lang" href="`)
		esc(s.URL)
		b.WriteString(`" lang="`)
		esc(s.Lang)
		b.WriteString(`" hreflang="`)
		esc(s.Lang)
		b.WriteString(`">`)
		esc(s.Label)
		b.WriteString("</a> ")
	}
	if g := p.GlossSwitch(); g != nil {
		b.WriteString(`<a class="fb-gloss" href="`)
		esc(g.URL)
		b.WriteString(`">`)
		esc(g.Label)
		b.WriteString("</a>")
	}
	b.WriteString("</ferry-links>\n<a id=\"ferry-hide\" class=\"fb-hide\" href=\"/hide\" title=\"")
	esc(p.T["hideTitle"])
	b.WriteString(`">`)
	esc(p.T["hide"])
	b.WriteString("</a>\n")
	if p.Warn != "" {
		b.WriteString(`<ferry-warn class="fb-warn" title="`)
		esc(p.Warn)
		b.WriteString(`">`)
		esc(p.Warn)
		b.WriteString("</ferry-warn>\n")
	}
	b.WriteString("</ferry-bar><ferry-gap id=\"ferry-gap\"" + warned + "></ferry-gap>")
	return asciiHTML(b.Bytes())
}

// asciiHTML writes every non-ASCII character as a numeric character
// reference, so the bar reads right whatever charset the page declares
// (EUC-KR, windows-1252...) and stays valid in XHTML. The bar has no
// script or style content, where references would not be decoded.
func asciiHTML(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, r := range string(b) {
		if r < 0x80 {
			out = append(out, byte(r))
		} else {
			out = append(out, "&#"...)
			out = strconv.AppendInt(out, int64(r), 10)
			out = append(out, ';')
		}
	}
	return out
}

const viewportMeta = `<meta name="viewport" content="width=device-width, initial-scale=1" />`

// injectBar returns page with the bar's style sheet (and a viewport, when
// the page has none, so it reads on a phone) at the start of its head, and
// the bar with its script where the body begins, as the parts to write.
func (h *Handler) injectBar(page []byte, p *page, nonce string) [][]byte {
	return h.injectBarAt(page, scanHead(page), p, nonce)
}

// injectBarAt is injectBar with the page's layout known.
func (h *Handler) injectBarAt(page []byte, lay layout, p *page, nonce string) [][]byte {
	head := `<link rel="stylesheet" href="/_/bar.css" />`
	if !lay.viewport {
		// A page made for a desktop screen: a viewport, and pictures no
		// wider than the screen (the page's own rules, which come later,
		// still win).
		head += viewportMeta + `<style>img,video{max-width:100%;height:auto}</style>`
	}
	bar := append([]byte(`<script src="/_/ui.js" defer="defer" nonce="`+nonce+`"></script>`), h.barBody(p)...)
	if lay.bodyAt < lay.headAt {
		lay.bodyAt = lay.headAt
	}
	return [][]byte{page[:lay.headAt], []byte(head), page[lay.headAt:lay.bodyAt], bar, page[lay.bodyAt:]}
}

// injectAt is injectBar for tests: one slice.
func injectAt(page []byte, head, bar []byte) []byte {
	lay := scanHead(page)
	if lay.bodyAt < lay.headAt {
		lay.bodyAt = lay.headAt
	}
	out := append([]byte{}, page[:lay.headAt]...)
	out = append(out, head...)
	out = append(out, page[lay.headAt:lay.bodyAt]...)
	out = append(out, bar...)
	return append(out, page[lay.bodyAt:]...)
}

// layout is where things go in a page.
type layout struct {
	headAt   int  // before the first style sheet, script or body content, after any charset declaration
	bodyAt   int  // right after <body ...>, or where the body begins
	viewport bool // the page has <meta name=viewport>
	lang     string
	// stop is where scanHead stopped reading: the start of the tag that
	// began the body, else the end of what it read. Nothing after it
	// changes the layout.
	stop int
}

// headElems may appear in a head; any other element starts the body.
var headElems = map[string]bool{"html": true, "head": true, "title": true, "meta": true, "base": true,
	"link": true, "style": true, "script": true, "noscript": true, "template": true}

// maxHeadScan bounds the bytes looked at for the head: real heads are
// far shorter.
const maxHeadScan = 1 << 20

// scanHead finds the layout with an HTML tokenizer, so tags inside
// comments, scripts or attribute values are not taken for real ones.
func scanHead(page []byte) layout {
	lay := layout{headAt: -1, bodyAt: -1}
	z := xhtml.NewTokenizer(bytes.NewReader(page[:min(len(page), maxHeadScan)]))
	off := 0
	inRaw := false     // in the text of <title>, <style>, <script>...
	afterPreamble := 0 // after a doctype, <?xml?>, <html> or <head> and what precedes the first other element
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := z.Raw()
		start, end := off, off+len(raw)
		off = end
		if tt == xhtml.TextToken && inRaw {
			continue
		}
		inRaw = false
		switch tt {
		case xhtml.DoctypeToken, xhtml.CommentToken:
			if lay.headAt < 0 {
				afterPreamble = end
			}
		case xhtml.TextToken:
			if lay.headAt < 0 && len(bytes.TrimSpace(raw)) == 0 {
				afterPreamble = end
			} else if len(bytes.TrimSpace(raw)) > 0 && lay.bodyAt < 0 && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<?xml")) {
				// Text outside any element starts the body.
				if lay.headAt < 0 {
					lay.headAt = start
				}
				lay.bodyAt = start
			} else if lay.headAt < 0 {
				afterPreamble = end
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			n := string(name)
			switch n {
			case "title", "style", "script", "noscript", "textarea", "xmp", "iframe", "noembed", "noframes", "template":
				inRaw = tt == xhtml.StartTagToken
			}
			var attrs map[string]string
			if hasAttr && (n == "meta" || n == "html" || n == "link") {
				attrs = map[string]string{}
				for {
					k, v, more := z.TagAttr()
					if _, seen := attrs[string(k)]; !seen {
						attrs[string(k)] = string(v)
					}
					if !more {
						break
					}
				}
			}
			switch {
			case n == "html" || n == "head":
				if n == "html" && lay.lang == "" {
					lay.lang = attrs["lang"]
					if lay.lang == "" {
						lay.lang = attrs["xml:lang"]
					}
				}
				if lay.headAt < 0 {
					afterPreamble = end
				}
			case n == "body":
				if lay.headAt < 0 {
					lay.headAt = start
				}
				lay.bodyAt = end // the body tag wins over a </head> before it
				lay.stop = start
				return finish(lay, afterPreamble)
			case n == "meta":
				if strings.EqualFold(attrs["name"], "viewport") {
					lay.viewport = true
				}
				if lay.headAt < 0 && (attrs["charset"] != "" || strings.EqualFold(attrs["http-equiv"], "content-type")) {
					afterPreamble = end // keep the charset first, in the first 1024 bytes
				}
			case headElems[n]:
				if lay.headAt < 0 && (n == "style" || n == "link" || n == "script" || n == "noscript" || n == "template" || n == "base") {
					lay.headAt = start
				}
			default:
				if lay.headAt < 0 {
					lay.headAt = start
				}
				if lay.bodyAt < 0 {
					lay.bodyAt = start
				}
				lay.stop = start
				return finish(lay, afterPreamble)
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "head" {
				if lay.headAt < 0 {
					lay.headAt = start
				}
				if lay.bodyAt < 0 {
					lay.bodyAt = end
				}
			}
		}
	}
	lay.stop = off
	return finish(lay, afterPreamble)
}

func finish(lay layout, afterPreamble int) layout {
	if lay.headAt < 0 {
		lay.headAt = afterPreamble
	}
	if lay.bodyAt < 0 {
		lay.bodyAt = max(lay.headAt, afterPreamble)
	}
	return lay
}

// htmlLangAttr returns the lang of a page's <html> element, if its head
// is in b.
func htmlLangAttr(b []byte) string { return scanHead(b).lang }

// The sandboxed frame (Options.ArchiveScripts). A page whose scripts may
// run is never a top-level document: /a/NAME/PATH answers ferry's own
// page with the bar and an <iframe sandbox="allow-scripts allow-forms">
// of /f/KEY/NAME/PATH, which is served with the same sandbox in its own
// policy. Without allow-top-navigation its scripts cannot move the tab,
// the parent's frame-src 'self' keeps the frame itself on the reader,
// without allow-popups they open no window, and without
// allow-same-origin they run in an opaque origin that cannot read the
// reader's other pages (no CORS) nor reach into the parent page. KEY is
// a secret of this process: the frame's own requests come back marked
// cross-site, and are served only with it.

// framedCSP is the policy of a page inside the frame.
const framedCSP = "sandbox allow-scripts allow-forms; default-src 'self'; script-src 'self' 'unsafe-inline'; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; font-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; frame-src 'self'"

// frameCSP is the policy of ferry's page around the frame.
const frameCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'; frame-src 'self'"

// frameRequest reports a request from inside a sandboxed frame, which
// carries the frame key.
func (h *Handler) frameRequest(r *http.Request) bool {
	if !h.opts.ArchiveScripts {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/f/")
	if !ok {
		return false
	}
	k, _, _ := strings.Cut(rest, "/")
	return subtle.ConstantTimeCompare([]byte(k), []byte(h.frameKey)) == 1
}

// frame answers an archive page with ferry's page around the sandboxed
// frame that shows it.
func (h *Handler) frame(w http.ResponseWriter, r *http.Request, l *lib, e archive.Entry) {
	p := h.newPage(r, e.Title)
	if p.Title == "" {
		p.Title = l.info().Title
	}
	if l.damaged.Load() {
		p.Warn = p.T["damagedParts"]
	}
	src := "/f/" + h.frameKey + entryURL(l.Name, e.Path)[len("/a"):]
	if r.URL.RawQuery != "" {
		src += "?" + r.URL.RawQuery
	}
	p.Data, p.Wide = src, true
	w.Header().Set("Content-Security-Policy", frameCSP)
	h.render(w, http.StatusOK, "frame", p)
}

// framed serves /f/KEY/NAME/PATH: an entry inside the sandboxed frame.
func (h *Handler) framed(w http.ResponseWriter, r *http.Request) {
	if !h.opts.ArchiveScripts || subtle.ConstantTimeCompare([]byte(r.PathValue("key")), []byte(h.frameKey)) != 1 {
		h.errorPage(w, r, http.StatusNotFound, "notFound", "notFoundHelp", "")
		return
	}
	name, p := r.PathValue("name"), r.PathValue("path")
	if r.Header.Get("Sec-Fetch-Dest") == "document" {
		// Never a top-level page: back into the frame.
		h.redirect(w, r, entryURL(name, p))
		return
	}
	l := h.lookupLib(name)
	if l == nil || l.Edition == nil {
		h.errorPage(w, r, http.StatusNotFound, "noLib", "notFoundHelp", "")
		return
	}
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	e, err := l.Edition.Lookup(p)
	if err == nil && e.Redirect {
		e, err = l.Edition.Resolve(e)
		if err == nil {
			http.Redirect(w, r, "/f/"+h.frameKey+entryURL(l.Name, e.Path)[len("/a"):], http.StatusFound)
			return
		}
	}
	if err != nil {
		h.readError(w, r, l, p, err)
		return
	}
	h.serveEntry(w, r, l, e, true)
}
