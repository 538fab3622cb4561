package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var palette = map[string]color.RGBA{
	"robust":   {0, 90, 200, 255},
	"standard": {0, 160, 60, 255},
	"fast":     {210, 30, 30, 255},
	"datac0":   {120, 120, 120, 255},
	"datac3":   {90, 160, 255, 255},
	"datac1":   {255, 140, 120, 255},
}

// plot draws goodput (top row) and frame success (bottom row) against
// SNR, one column per channel, ferry's modes solid and codec2's dashed.
func plot(path string, rs []result) error {
	var chans []string
	seen := map[string]bool{}
	var lo, hi, top float64 = math.Inf(1), math.Inf(-1), 0
	for _, r := range rs {
		if !seen[r.channel] {
			seen[r.channel] = true
			chans = append(chans, r.channel)
		}
		lo, hi = math.Min(lo, r.snr), math.Max(hi, r.snr)
		top = math.Max(top, r.goodput)
	}
	if len(rs) == 0 || hi <= lo {
		return fmt.Errorf("nothing to plot")
	}
	top = math.Ceil(top/250) * 250
	const pw, ph, ml, mr, mt, mb = 520, 400, 60, 20, 30, 50
	img := image.NewRGBA(image.Rect(0, 0, len(chans)*pw, 2*ph))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for row := 0; row < 2; row++ {
		value := func(r result) float64 { return r.goodput }
		step, ymax, label := 250.0, top, "goodput bit/s"
		if row == 1 {
			value = func(r result) float64 { return 100 * float64(r.good) / float64(r.sent) }
			step, ymax, label = 20, 100, "frames decoded %"
		}
		panel(img, rs, chans, row*ph, lo, hi, ymax, step, label, value)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func panel(img *image.RGBA, rs []result, chans []string, oy int, lo, hi, top, step float64, label string, value func(result) float64) {
	const pw, ph, ml, mr, mt, mb = 520, 400, 60, 20, 30, 50
	grey := color.RGBA{210, 210, 210, 255}
	black := color.RGBA{0, 0, 0, 255}
	for ci, ch := range chans {
		x0 := ci*pw + ml
		x1 := (ci+1)*pw - mr
		y0, y1 := oy+ph-mb, oy+mt
		X := func(s float64) int { return x0 + int(float64(x1-x0)*(s-lo)/(hi-lo)) }
		Y := func(g float64) int { return y0 - int(float64(y0-y1)*g/top) }
		for s := math.Ceil(lo); s <= hi; s += 3 {
			line(img, X(s), y0, X(s), y1, grey, false)
			text(img, X(s)-8, y0+15, fmt.Sprintf("%g", s), black)
		}
		for g := 0.0; g <= top; g += step {
			line(img, x0, Y(g), x1, Y(g), grey, false)
			text(img, x0-40, Y(g)+4, fmt.Sprintf("%4.0f", g), black)
		}
		line(img, x0, y0, x1, y0, black, false)
		line(img, x0, y0, x0, y1, black, false)
		text(img, x0+150, y0+32, "SNR (dB, 3 kHz noise bandwidth)", black)
		text(img, x0, oy+18, label+", channel: "+ch, black)
		bySys := map[string][]result{}
		var names []string
		for _, r := range rs {
			if r.channel != ch {
				continue
			}
			if _, ok := bySys[r.system]; !ok {
				names = append(names, r.system)
			}
			bySys[r.system] = append(bySys[r.system], r)
		}
		for ni, n := range names {
			pts := bySys[n]
			sort.Slice(pts, func(i, j int) bool { return pts[i].snr < pts[j].snr })
			c := palette[n]
			dashed := len(n) > 5 && n[:5] == "datac"
			for i := 1; i < len(pts); i++ {
				for d := -1; d <= 1; d++ {
					line(img, X(pts[i-1].snr), Y(value(pts[i-1]))+d, X(pts[i].snr), Y(value(pts[i]))+d, c, dashed)
				}
			}
			ly := y1 + 10 + 14*ni
			for d := -1; d <= 1; d++ {
				line(img, x0+10, ly+d, x0+35, ly+d, c, dashed)
			}
			text(img, x0+40, ly+4, n, black)
		}
	}
}

func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, dashed bool) {
	n := max(abs(x1-x0), abs(y1-y0))
	for i := 0; i <= n; i++ {
		if dashed && (i/6)%2 == 1 {
			continue
		}
		t := 0.0
		if n > 0 {
			t = float64(i) / float64(n)
		}
		img.Set(x0+int(math.Round(t*float64(x1-x0))), y0+int(math.Round(t*float64(y1-y0))), c)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
