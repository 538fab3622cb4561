package static

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func noLinks(string) (string, bool) { return "", false }

// FuzzRewriteCSS: any style sheet is rewritten without a panic, and what
// comes out rewrites to itself (nothing outside is left for a second pass).
func FuzzRewriteCSS(f *testing.F) {
	for _, s := range []string{`p{background:url(http://h/x)}`, `\75 rl(//h)`, `@import "http://h";`, `image-set("//h" 1x)`,
		`url(`, `"unterminated`, `/* x`, `\`, `p{b:url(a\)b)}`, `expression(`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, css []byte) {
		once := rewriteCSS(css, noLinks)
		if twice := rewriteCSS(once, noLinks); !bytes.Equal(once, twice) {
			t.Fatalf("not stable:\n%q\n%q", once, twice)
		}
	})
}

// FuzzSanitizeSVG: any input gives well-formed XML with no script.
func FuzzSanitizeSVG(f *testing.F) {
	for _, s := range []string{`<svg xmlns="http://www.w3.org/2000/svg"><script>x</script><image href="http://h/x"/></svg>`,
		`<svg><style>@import url(//h)</style></svg>`, `<?xml version="1.0"?><svg/>`, `<svg><foreignObject><a/></foreignObject></svg>`, `<`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := sanitizeSVG(b, noLinks)
		d := xml.NewDecoder(bytes.NewReader(out))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("output is not XML: %v\n%q", err, out)
			}
			if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, "script") {
				t.Fatalf("script kept: %q", out)
			}
		}
	})
}

// FuzzRewriteHTML: any page is rewritten without a panic.
func FuzzRewriteHTML(f *testing.F) {
	for _, s := range []string{`<img src="http:/\h/x">`, `<svg><style><img src=//h></style></svg>`, `<noscript><img src=//h></noscript>`,
		`<a href="javascript:x">`, `<!--[if IE]><img src=//h><![endif]-->`, `<style>url(`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rewriteHTML(b, noLinks)
	})
}
