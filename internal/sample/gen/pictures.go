package main

import (
	"image/color"
	"math"
)

var (
	paper = color.RGBA{0xf7, 0xf4, 0xec, 0xff}
	ink   = color.RGBA{0x2d, 0x3a, 0x4a, 0xff}
	blue  = color.RGBA{0x2f, 0x6d, 0xb5, 0xff}
	sky   = color.RGBA{0xcf, 0xe1, 0xf3, 0xff}
	green = color.RGBA{0x3f, 0x8f, 0x5a, 0xff}
	red   = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	gold  = color.RGBA{0xd9, 0xa4, 0x2c, 0xff}
	grey  = color.RGBA{0x9a, 0xa3, 0xad, 0xff}
	light = color.RGBA{0xe3, 0xe6, 0xea, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
	brick = color.RGBA{0x9c, 0x5b, 0x3f, 0xff}
)

// building draws a publisher's house (a library with columns) centred at x.
func building(c *canvas, x, y, s float64) {
	c.poly(ink, x-s, y-0.45*s, x, y-s, x+s, y-0.45*s)
	c.rect(x-0.9*s, y-0.45*s, 1.8*s, 0.12*s, 0, ink)
	for i := 0; i < 4; i++ {
		cx := x - 0.65*s + float64(i)*0.433*s
		c.rect(cx-0.09*s, y-0.3*s, 0.18*s, 0.85*s, 0.02*s, blue)
	}
	c.rect(x-s, y+0.55*s, 2*s, 0.15*s, 0, ink)
}

// card draws a microSD card of height h with its top-left corner at (x, y).
func card(c *canvas, x, y, h float64, body color.RGBA) {
	w := h * 0.73
	n := w * 0.18
	c.poly(body, x, y, x+w*0.72, y, x+w*0.72, y+n, x+w*0.78, y+n*1.3, x+w, y+n*1.3,
		x+w, y+h, x, y+h, x, y+h*0.55, x+w*0.06, y+h*0.5, x, y+h*0.45)
	for i := 0; i < 8; i++ {
		c.rect(x+w*0.06+float64(i)*w*0.083, y+h*0.05, w*0.055, h*0.16, 1, gold)
	}
	c.rect(x+w*0.18, y+h*0.45, w*0.64, h*0.38, 3, light)
}

// tower draws a radio mast with waves; (x, y) is the foot.
func tower(c *canvas, x, y, s float64, waves int) {
	top := y - s
	c.line(x, top, x-0.35*s, y, s*0.045, ink)
	c.line(x, top, x+0.35*s, y, s*0.045, ink)
	for i := 1; i <= 4; i++ {
		f := float64(i) / 5
		yy := top + f*s
		c.line(x-0.35*s*f, yy, x+0.35*s*f, yy, s*0.03, ink)
		if i < 4 {
			f2 := float64(i+1) / 5
			c.line(x-0.35*s*f, yy, x+0.35*s*f2, top+f2*s, s*0.02, ink)
		}
	}
	c.circle(x, top, s*0.06, red)
	for i := 1; i <= waves; i++ {
		r := s * (0.15 + 0.14*float64(i))
		c.arc(x, top, r, s*0.035, -0.6, 0.6, blue)
		c.arc(x, top, r, s*0.035, math.Pi-0.6, math.Pi, blue)
		c.arc(x, top, r, s*0.035, -math.Pi, -math.Pi+0.6, blue)
	}
}

// computer draws a screen on a stand; (x, y) is the screen's top-left.
func computer(c *canvas, x, y, w float64, lines bool) {
	h := w * 0.66
	c.rect(x, y, w, h, w*0.04, ink)
	c.rect(x+w*0.05, y+w*0.05, w*0.9, h-w*0.1, w*0.02, white)
	if lines {
		for i := 0; i < 4; i++ {
			lw := w * 0.7
			if i == 3 {
				lw = w * 0.45
			}
			c.rect(x+w*0.12, y+w*0.12+float64(i)*h*0.17, lw, h*0.07, 2, sky)
		}
	}
	c.rect(x+w*0.42, y+h, w*0.16, w*0.12, 0, ink)
	c.rect(x+w*0.25, y+h+w*0.12, w*0.5, w*0.05, 2, ink)
}

// radio draws a small receiver; (x, y) is its top-left.
func radio(c *canvas, x, y, w float64) {
	h := w * 0.6
	c.line(x+w*0.75, y, x+w*0.95, y-h*0.6, w*0.03, ink)
	c.rect(x, y, w, h, w*0.08, brick)
	c.circle(x+w*0.32, y+h*0.5, h*0.32, ink)
	c.circle(x+w*0.32, y+h*0.5, h*0.18, grey)
	c.rect(x+w*0.62, y+h*0.25, w*0.28, h*0.14, 2, light)
	c.circle(x+w*0.7, y+h*0.68, h*0.08, light)
	c.circle(x+w*0.84, y+h*0.68, h*0.08, light)
}

// check draws a tick mark.
func check(c *canvas, x, y, s float64, col color.RGBA) {
	c.line(x, y, x+s*0.35, y+s*0.35, s*0.16, col)
	c.line(x+s*0.35, y+s*0.35, x+s, y-s*0.4, s*0.16, col)
}

// cross draws an X.
func cross(c *canvas, x, y, s float64, col color.RGBA) {
	c.line(x-s/2, y-s/2, x+s/2, y+s/2, s*0.18, col)
	c.line(x-s/2, y+s/2, x+s/2, y-s/2, s*0.18, col)
}

// drawPath: the way of content from a publisher, over card and radio, to a reader.
func drawPath() *canvas {
	c := newCanvas(720, 270, paper)
	building(c, 95, 145, 70)
	c.arrow(185, 120, 285, 65, 6, grey)
	c.arrow(185, 165, 285, 200, 6, grey)
	card(c, 318, 12, 90, blue)
	tower(c, 350, 258, 95, 2)
	c.arrow(410, 65, 505, 120, 6, grey)
	c.arrow(410, 200, 505, 165, 6, grey)
	computer(c, 525, 75, 160, true)
	return c
}

// drawCard: a card that carries a signed library.
func drawCard() *canvas {
	c := newCanvas(360, 240, paper)
	card(c, 110, 25, 190, ink)
	c.circle(250, 175, 40, green)
	check(c, 232, 175, 38, white)
	return c
}

// drawRadio: a station sends, a small radio receives.
func drawRadio() *canvas {
	c := newCanvas(520, 260, paper)
	tower(c, 120, 250, 170, 2)
	for i := 0; i < 3; i++ {
		c.arc(250+float64(i)*45, 130, 40, 5, -0.7, 0.7, blue)
	}
	radio(c, 370, 120, 120)
	return c
}

// drawNet: a world of linked computers, a wall, and people cut off behind it.
func drawNet() *canvas {
	c := newCanvas(640, 260, paper)
	nodes := [][2]float64{{60, 60}, {150, 40}, {230, 90}, {90, 150}, {180, 170}, {60, 220}, {250, 210}}
	links := [][2]int{{0, 1}, {1, 2}, {0, 3}, {3, 4}, {2, 4}, {3, 5}, {4, 6}, {1, 4}, {5, 6}}
	for _, l := range links {
		a, b := nodes[l[0]], nodes[l[1]]
		c.line(a[0], a[1], b[0], b[1], 4, grey)
	}
	for _, n := range nodes {
		c.circle(n[0], n[1], 16, blue)
	}
	// wall
	for row := 0; row < 9; row++ {
		off := float64(row%2) * 14
		for col := 0; col < 2; col++ {
			c.rect(310+off+float64(col)*28-14, 15+float64(row)*26, 26, 23, 2, brick)
		}
	}
	c.line(250, 210, 300, 200, 4, grey)
	c.line(230, 90, 300, 110, 4, grey)
	cross(c, 420, 105, 30, red)
	cross(c, 420, 190, 30, red)
	computer(c, 470, 50, 90, false)
	computer(c, 520, 150, 80, false)
	return c
}

// drawHide: a page with a hide button becomes a blank page.
func drawHide() *canvas {
	c := newCanvas(600, 240, paper)
	win := func(x float64, content bool) {
		c.rect(x, 30, 220, 180, 8, ink)
		c.rect(x+6, 56, 208, 148, 4, white)
		c.circle(x+18, 43, 5, grey)
		c.circle(x+34, 43, 5, grey)
		if content {
			for i := 0; i < 5; i++ {
				c.rect(x+20, 75+float64(i)*24, 150-float64(i%2)*40, 10, 3, sky)
			}
			c.rect(x+150, 62, 56, 24, 6, red)
			c.rect(x+162, 72, 32, 4, 2, white)
		}
	}
	win(30, true)
	c.arrow(275, 120, 335, 120, 7, grey)
	win(350, false)
	return c
}

// drawScrub: a card marked by a computer, cleaned before it is passed on.
func drawScrub() *canvas {
	c := newCanvas(600, 240, paper)
	computer(c, 20, 50, 140, false)
	star(c, 90, 96, 28, red)
	c.arrow(175, 110, 225, 110, 6, grey)
	card(c, 240, 40, 150, ink)
	for i := 0; i < 4; i++ {
		c.circle(270+float64(i)*18, 170, 6, red)
	}
	c.arrow(370, 110, 430, 110, 6, grey)
	card(c, 450, 40, 150, ink)
	c.circle(560, 170, 30, green)
	check(c, 546, 170, 28, white)
	return c
}

// star draws a five-pointed star of outer radius r.
func star(c *canvas, x, y, r float64, col color.RGBA) {
	var pts []float64
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = r * 0.4
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts = append(pts, x+rr*math.Cos(a), y+rr*math.Sin(a))
	}
	c.poly(col, pts...)
}
