package epub

import (
	"bytes"
	"encoding/xml"
)

func newStrictDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	return d
}
