package main

import (
	"image"
	"image/color"
	"math"
)

// ss is the supersampling factor: shapes are tested at ss×ss points per
// pixel, which gives smooth edges without any outside drawing library.
const ss = 3

// canvas is an RGBA picture drawn by painting shapes in order.
type canvas struct {
	img  *image.RGBA
	w, h int
}

func newCanvas(w, h int, bg color.RGBA) *canvas {
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), w: w, h: h}
	for i := 0; i < len(c.img.Pix); i += 4 {
		c.img.Pix[i], c.img.Pix[i+1], c.img.Pix[i+2], c.img.Pix[i+3] = bg.R, bg.G, bg.B, 255
	}
	return c
}

// shape reports whether a point (in pixel units) is inside.
type shape func(x, y float64) bool

// fill paints every pixel of the box [x0,x1)×[y0,y1) covered by s, blending
// by the fraction of sample points inside.
func (c *canvas) fill(x0, y0, x1, y1 float64, col color.RGBA, s shape) {
	ix0, iy0 := max(0, int(math.Floor(x0))-1), max(0, int(math.Floor(y0))-1)
	ix1, iy1 := min(c.w, int(math.Ceil(x1))+1), min(c.h, int(math.Ceil(y1))+1)
	for py := iy0; py < iy1; py++ {
		for px := ix0; px < ix1; px++ {
			n := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					if s(float64(px)+(float64(sx)+0.5)/ss, float64(py)+(float64(sy)+0.5)/ss) {
						n++
					}
				}
			}
			if n == 0 {
				continue
			}
			a := float64(n) / (ss * ss) * float64(col.A) / 255
			o := c.img.PixOffset(px, py)
			p := c.img.Pix[o : o+3]
			p[0] = uint8(float64(p[0])*(1-a) + float64(col.R)*a + 0.5)
			p[1] = uint8(float64(p[1])*(1-a) + float64(col.G)*a + 0.5)
			p[2] = uint8(float64(p[2])*(1-a) + float64(col.B)*a + 0.5)
		}
	}
}

// rect fills a rectangle with corner radius r.
func (c *canvas) rect(x, y, w, h, r float64, col color.RGBA) {
	c.fill(x, y, x+w, y+h, col, func(px, py float64) bool {
		if px < x || px > x+w || py < y || py > y+h {
			return false
		}
		cx := math.Max(x+r, math.Min(px, x+w-r))
		cy := math.Max(y+r, math.Min(py, y+h-r))
		return (px-cx)*(px-cx)+(py-cy)*(py-cy) <= r*r
	})
}

// circle fills a disc.
func (c *canvas) circle(cx, cy, r float64, col color.RGBA) {
	c.fill(cx-r, cy-r, cx+r, cy+r, col, func(x, y float64) bool {
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	})
}

// arc draws a ring segment of radius r and width lw between angles a0 and a1
// (radians, 0 = right, counter-clockwise as seen on screen).
func (c *canvas) arc(cx, cy, r, lw, a0, a1 float64, col color.RGBA) {
	c.fill(cx-r-lw, cy-r-lw, cx+r+lw, cy+r+lw, col, func(x, y float64) bool {
		d := math.Hypot(x-cx, y-cy)
		if math.Abs(d-r) > lw/2 {
			return false
		}
		a := math.Atan2(cy-y, x-cx)
		return a >= a0 && a <= a1
	})
}

// line draws a segment with round caps.
func (c *canvas) line(x0, y0, x1, y1, lw float64, col color.RGBA) {
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	c.fill(math.Min(x0, x1)-lw, math.Min(y0, y1)-lw, math.Max(x0, x1)+lw, math.Max(y0, y1)+lw, col, func(x, y float64) bool {
		t := 0.0
		if l2 > 0 {
			t = math.Max(0, math.Min(1, ((x-x0)*dx+(y-y0)*dy)/l2))
		}
		px, py := x0+t*dx-x, y0+t*dy-y
		return px*px+py*py <= lw*lw/4
	})
}

// poly fills a polygon (even-odd rule).
func (c *canvas) poly(col color.RGBA, pts ...float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i < len(pts); i += 2 {
		x0, x1 = math.Min(x0, pts[i]), math.Max(x1, pts[i])
		y0, y1 = math.Min(y0, pts[i+1]), math.Max(y1, pts[i+1])
	}
	n := len(pts) / 2
	c.fill(x0, y0, x1, y1, col, func(x, y float64) bool {
		in := false
		for i, j := 0, n-1; i < n; j, i = i, i+1 {
			xi, yi, xj, yj := pts[2*i], pts[2*i+1], pts[2*j], pts[2*j+1]
			if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
				in = !in
			}
		}
		return in
	})
}

// arrow draws a line from (x0,y0) to (x1,y1) with a head at the end.
func (c *canvas) arrow(x0, y0, x1, y1, lw float64, col color.RGBA) {
	a := math.Atan2(y1-y0, x1-x0)
	hl := lw * 3.2
	bx, by := x1-hl*math.Cos(a), y1-hl*math.Sin(a)
	c.line(x0, y0, bx, by, lw, col)
	px, py := -math.Sin(a)*hl*0.6, math.Cos(a)*hl*0.6
	c.poly(col, x1, y1, bx+px, by+py, bx-px, by-py)
}
