package scrub

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// exifReport is what readExif found in a TIFF-structured EXIF block.
type exifReport struct {
	found       []string
	orientation uint16
}

func joinFound(f []string) string { return strings.Join(f, ", ") }

// Tags worth naming in a report (TIFF/EXIF 2.3 tag numbers).
var exifTagNames = map[uint16]string{
	0x010F: "camera make",
	0x0110: "camera model",
	0x0131: "software",
	0x0132: "date/time",
	0x013B: "artist",
	0x8298: "copyright",
	0x9003: "date/time taken",
	0x927C: "maker notes",
	0xA420: "image unique ID",
	0xA430: "camera owner",
	0xA431: "camera serial number",
	0xA435: "lens serial number",
}

// Tags whose text value is shown in the report.
var exifShowValue = map[uint16]bool{0x010F: true, 0x0110: true, 0x013B: true, 0xA430: true, 0xA431: true, 0xA435: true}

// readExif names the identifying tags in an EXIF block. It only reads
// (the block is dropped whole), never trusts an offset without checking it,
// and visits each IFD at most once.
func readExif(b []byte) exifReport {
	var rep exifReport
	if len(b) < 8 {
		return rep
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return rep
	}
	if bo.Uint16(b[2:]) != 42 {
		return rep
	}
	seen := map[uint32]bool{}
	type ifd struct {
		off  uint32
		kind string
	}
	queue := []ifd{{bo.Uint32(b[4:]), "ifd0"}}
	for len(queue) > 0 && len(seen) < 8 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur.off] || int64(cur.off)+2 > int64(len(b)) {
			continue
		}
		seen[cur.off] = true
		off := int(cur.off)
		n := int(bo.Uint16(b[off:]))
		if max := (len(b) - off - 2) / 12; n > max {
			n = max
		}
		if cur.kind == "gps" && n > 0 {
			rep.found = append(rep.found, "GPS position")
			continue
		}
		for i := 0; i < n; i++ {
			e := b[off+2+12*i:]
			tag, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), bo.Uint32(e[4:])
			switch tag {
			case 0x8769:
				queue = append(queue, ifd{bo.Uint32(e[8:]), "exif"})
				continue
			case 0x8825:
				queue = append(queue, ifd{bo.Uint32(e[8:]), "gps"})
				continue
			case 0x0112:
				if cur.kind == "ifd0" && typ == 3 {
					rep.orientation = bo.Uint16(e[8:])
				}
				continue
			}
			name, ok := exifTagNames[tag]
			if !ok {
				continue
			}
			if exifShowValue[tag] && typ == 2 {
				if v := exifASCII(b, e[8:12], bo, count); v != "" {
					name += fmt.Sprintf(" %q", v)
				}
			}
			rep.found = append(rep.found, name)
		}
		if cur.kind == "ifd0" && off+2+12*n+4 <= len(b) {
			if next := bo.Uint32(b[off+2+12*n:]); next != 0 {
				rep.found = append(rep.found, "thumbnail image")
			}
		}
	}
	return rep
}

// exifASCII reads a short ASCII value, inline or at an offset.
func exifASCII(b, field []byte, bo binary.ByteOrder, count uint32) string {
	if count == 0 || count > 64 {
		return ""
	}
	var v []byte
	if count <= 4 {
		v = field[:count]
	} else {
		o := int64(bo.Uint32(field))
		if o+int64(count) > int64(len(b)) {
			return ""
		}
		v = b[o : o+int64(count)]
	}
	s := strings.TrimRight(string(v), "\x00 ")
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return s
}
