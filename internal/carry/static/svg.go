package static

import (
	"bytes"
	"encoding/xml"
	"html"
	"io"
	"strings"
)

// An SVG file opened from file:// is a document of its own: its scripts
// run and it loads what it names (<image href>, @import in its style
// sheets, pages in <foreignObject>). So SVG files are exported sanitized:
// read as strict XML (an SVG that does not parse, or declares entities,
// becomes an empty picture), without scripts, event attributes,
// <foreignObject>, animation elements (which can set an href to
// anything), processing instructions (an xml-stylesheet can run XSLT) and
// DOCTYPEs; addresses that name entries of the archive point at their
// files, others are kept only if they stay in the document (#id) or are
// data: URLs; style sheets go through rewriteCSS.

// svgDrop are elements removed with their content.
var svgDrop = map[string]bool{"script": true, "foreignobject": true, "iframe": true, "object": true, "embed": true,
	"handler": true, "listener": true, "set": true, "animate": true, "animatemotion": true, "animatetransform": true,
	"animatecolor": true, "discard": true, "audio": true, "video": true, "meta": true, "link": true, "base": true}

// emptySVG replaces a picture that cannot be made safe.
const emptySVG = `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>` + "\n"

// maxSVGDepth bounds the nesting followed.
const maxSVGDepth = 256

// sanitizeSVG returns an SVG document safe to open from file://.
func sanitizeSVG(b []byte, link func(string) (string, bool)) []byte {
	if bytes.Contains(bytes.ToLower(b), []byte("<!entity")) {
		return []byte(emptySVG)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var out bytes.Buffer
	out.Grow(len(b))
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	skip := 0
	depth := 0
	var names []string // open elements, as written
	inStyle := false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil || depth > maxSVGDepth {
			return []byte(emptySVG)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			local := strings.ToLower(t.Name.Local)
			if skip > 0 || svgDrop[local] {
				skip++
				continue
			}
			name := qname(t.Name)
			out.WriteString("<" + name)
			for _, a := range t.Attr {
				key := strings.ToLower(a.Name.Local)
				full := strings.ToLower(qname(a.Name))
				v := a.Value
				switch {
				case strings.HasPrefix(key, "on"):
					continue
				case key == "href" || key == "src" || full == "xlink:href" || key == "action" || key == "formaction":
					if nu, ok := link(v); ok {
						v = nu
					} else if strings.HasPrefix(strings.TrimSpace(v), "#") {
						// within the document
					} else if local == "a" && clickable(v) && !scriptURL(v) {
						// a link the reader may follow by clicking
					} else if outside(v) || scriptURL(v) {
						continue
					}
				case key == "style":
					v = string(rewriteCSS([]byte(v), link))
				default:
					// Presentation attributes may hold url(...) (fill,
					// filter, mask, clip-path, marker-*, cursor).
					if strings.Contains(strings.ToLower(v), "url") || strings.Contains(v, `\`) {
						v = string(rewriteCSS([]byte(v), link))
					}
				}
				out.WriteString(" " + qname(a.Name) + `="` + html.EscapeString(v) + `"`)
			}
			out.WriteString(">")
			names = append(names, name)
			inStyle = local == "style"
		case xml.EndElement:
			depth--
			if skip > 0 {
				skip--
				continue
			}
			if len(names) == 0 {
				return []byte(emptySVG)
			}
			out.WriteString("</" + names[len(names)-1] + ">")
			names = names[:len(names)-1]
			inStyle = false
		case xml.CharData:
			if skip > 0 {
				continue
			}
			if inStyle {
				xml.EscapeText(&out, rewriteCSS(t, link))
			} else {
				xml.EscapeText(&out, t)
			}
		case xml.Comment:
			// Dropped: nothing a picture needs.
		case xml.ProcInst, xml.Directive:
			// The XML declaration is written above; xml-stylesheet and
			// DOCTYPE go.
		}
	}
	if len(names) != 0 {
		return []byte(emptySVG)
	}
	return out.Bytes()
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}
