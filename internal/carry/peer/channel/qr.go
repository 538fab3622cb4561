package channel

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"strings"

	"rsc.io/qr"
)

// PairingInfo is what a dialling device needs to pair: the listener's
// address and the code. Its text form, which the QR code holds, is
// "FERRY-SYNC:" HOST ":" PORT "/" CODE, e.g. "FERRY-SYNC:192.168.0.7:4040/12345678"
// (upper case, digits and ".:/-" keep a QR code in its compact alphanumeric
// mode for IPv4 addresses).
type PairingInfo struct {
	Addr string // host:port
	Code Code
}

const pairingPrefix = "FERRY-SYNC:"

// String is the text form.
func (p PairingInfo) String() string { return pairingPrefix + p.Addr + "/" + string(p.Code) }

// ParsePairingInfo reads the text form (the prefix in any case).
func ParsePairingInfo(s string) (PairingInfo, error) {
	s = strings.TrimSpace(s)
	if len(s) < len(pairingPrefix) || !strings.EqualFold(s[:len(pairingPrefix)], pairingPrefix) {
		return PairingInfo{}, fmt.Errorf("channel: pairing text does not start with %q", pairingPrefix)
	}
	s = s[len(pairingPrefix):]
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return PairingInfo{}, errors.New("channel: pairing text has no /CODE")
	}
	addr, code := s[:i], s[i+1:]
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return PairingInfo{}, fmt.Errorf("channel: pairing address %q: %w", addr, err)
	}
	c, err := ParseCode(code)
	if err != nil {
		return PairingInfo{}, err
	}
	return PairingInfo{Addr: addr, Code: c}, nil
}

// QR is a QR code of a PairingInfo.
type QR struct{ code *qr.Code }

// QR encodes the pairing text at error-correction level M.
func (p PairingInfo) QR() (*QR, error) {
	c, err := qr.Encode(p.String(), qr.M)
	if err != nil {
		return nil, fmt.Errorf("channel: making the QR code: %w", err)
	}
	return &QR{c}, nil
}

// quiet is the margin of light modules around the code that scanners need.
const quiet = 4

// Size is the number of modules on a side, margin included.
func (q *QR) Size() int { return q.code.Size + 2*quiet }

// dark reports whether module (x, y), margin included, is dark.
func (q *QR) dark(x, y int) bool { return q.code.Black(x-quiet, y-quiet) }

// Terminal renders the code for a terminal with Unicode half blocks, two
// modules to a character cell, one line per two module rows. The blocks
// draw light modules, which suits the usual light-on-dark terminal; invert
// draws dark modules instead, for dark-on-light terminals.
func (q *QR) Terminal(invert bool) string {
	var b strings.Builder
	n := q.Size()
	lit := func(x, y int) bool { return y < n && q.dark(x, y) == invert }
	for y := 0; y < n; y += 2 {
		for x := 0; x < n; x++ {
			switch top, bot := lit(x, y), lit(x, y+1); {
			case top && bot:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bot:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// PNG renders the code as a black-on-white PNG with scale pixels per module
// (1 to 64; 0 means 8), for a web page.
func (q *QR) PNG(scale int) ([]byte, error) {
	if scale == 0 {
		scale = 8
	}
	if scale < 1 || scale > 64 {
		return nil, errors.New("channel: QR scale must be 1 to 64")
	}
	n := q.Size() * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(255)
			if q.dark(x/scale, y/scale) {
				v = 0
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
