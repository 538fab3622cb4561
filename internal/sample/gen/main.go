// Command gen draws the sample library's pictures, synthesizes its sound
// clip, and packs sample/content into sample/sample.ferry signed with the
// sample key. Run it from the module root after changing the content:
//
//	go run ./internal/sample/gen -dir internal/sample
//
// Its outputs are committed, so nobody needs to run it before building ferry.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "sample", "the sample package folder (holding content/)")
	flag.Parse()
	content := filepath.Join(*dir, "content")
	if _, err := os.Stat(content); err != nil {
		log.Fatalf("%v: run from the module root or pass -dir", err)
	}
	pics := map[string]*canvas{
		"path.png":  drawPath(),
		"card.png":  drawCard(),
		"radio.png": drawRadio(),
		"net.png":   drawNet(),
		"hide.png":  drawHide(),
		"scrub.png": drawScrub(),
	}
	for name, c := range pics {
		var b bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&b, c.img); err != nil {
			log.Fatal(err)
		}
		writeFile(filepath.Join(content, "img", name), b.Bytes())
	}
	writeFile(filepath.Join(content, "media", "signal.wav"), chime())
	if err := packSample(*dir); err != nil {
		log.Fatal(err)
	}
}

// writeFile writes b unless the file already holds exactly b, so that
// running the generator twice changes nothing.
func writeFile(path string, b []byte) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", path)
}

// chime synthesizes a 2.4 s mono 16-bit 8 kHz WAV: a rising call sign of
// three notes, then four short ticks a quarter second apart (so a listener
// hears where a seek landed), then a low closing note.
func chime() []byte {
	const rate = 8000
	type note struct{ start, dur, freq float64 }
	notes := []note{
		{0.00, 0.25, 523.25}, {0.25, 0.25, 659.25}, {0.50, 0.40, 783.99},
		{1.00, 0.08, 1046.5}, {1.25, 0.08, 1046.5}, {1.50, 0.08, 1046.5}, {1.75, 0.08, 1046.5},
		{2.00, 0.40, 392.00},
	}
	n := int(2.4 * rate)
	pcm := make([]int16, n)
	for _, nt := range notes {
		s0 := int(nt.start * rate)
		ns := int(nt.dur * rate)
		for i := 0; i < ns && s0+i < n; i++ {
			t := float64(i) / rate
			// short attack, exponential decay: a soft bell, no clicks
			env := math.Min(1, t/0.01) * math.Exp(-3*t/nt.dur)
			v := env * (0.7*math.Sin(2*math.Pi*nt.freq*t) + 0.2*math.Sin(4*math.Pi*nt.freq*t))
			pcm[s0+i] += int16(v * 0.5 * 32767)
		}
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	// fmt chunk: size 16, PCM, mono, rate, byte rate, block align, bits
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*n))
	binary.Write(&b, le, pcm)
	return b.Bytes()
}
