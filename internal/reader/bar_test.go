package reader

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBarASCIIAndXML checks the bar is pure ASCII (it reads right in a
// page of any charset) and well-formed XML (it fits XHTML pages), in every
// UI language, with hostile values escaped.
func TestBarASCIIAndXML(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	for _, target := range []string{"/a/sample/ko/index.html", "/kp/a/sample/ko/index.html", "/en-g1/search?q=%22%3E%3Cscript%3E&in=sample"} {
		r := withSettings(httptest.NewRequest("GET", target, nil))
		p := h.newPage(r, "t")
		p.In, p.Query, p.Warn = "sample", r.URL.Query().Get("q"), `<b>"&`
		bar := h.barBody(p)
		for _, c := range bar {
			if c >= 0x80 {
				t.Fatalf("%s: non-ASCII byte in the bar: %q", target, bar)
			}
		}
		if bytes.Contains(bar, []byte("<script")) || bytes.Contains(bar, []byte("<b>")) {
			t.Errorf("%s: value not escaped: %s", target, bar)
		}
		d := xml.NewDecoder(bytes.NewReader(bar))
		d.Entity = xml.HTMLEntity
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: bar is not well-formed XML: %v\n%s", target, err, bar)
			}
		}
		if !strings.Contains(string(bar), `id="ferry-hide"`) {
			t.Errorf("%s: no hide button", target)
		}
	}
}
