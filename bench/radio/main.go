// Command radio measures what a radio edition costs on air: a 20-article
// Korean news digest (made from KorQuAD paragraphs in ../shared/testdata)
// packed with the radio profile, sent as air packets in each modem mode,
// against the budget of 1.15 × the xz -9e size of its plain text
// + 2 KB, and the airtime per 1,000 Korean characters.
//
// With -fading N it also decodes one round of the digest through CCIR
// fading at each mode's target SNR, N seeds per channel: how often a
// recording of one round gives the archive back.
//
//	go run ./bench/radio [-testdata ../shared/testdata] [-articles 20] [-fading 5 [-copies 5] [-repair 1]]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"ferry/internal/archive"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
)

func main() {
	td := flag.String("testdata", "../shared/testdata", "the shared test data folder")
	n := flag.Int("articles", 20, "articles in the digest")
	paras := flag.Int("paragraphs", 3, "paragraphs per article")
	seeds := flag.Int("fading", 0, "also decode one round through CCIR good, moderate and poor fading at each mode's target SNR, this many seeds each")
	repair := flag.Float64("repair", 1, "with -fading: repair symbols per round, as a share of K")
	copies := flag.Int("copies", 5, "with -fading: announcement copies per round")
	modes := flag.String("modes", "robust,standard,fast", "with -fading: the modes")
	fadings := flag.String("fadings", "good,moderate,poor", "with -fading: the CCIR channels")
	flag.Parse()
	raw, err := os.ReadFile(filepath.Join(*td, "korquad/KorQuAD_v1.0_dev.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "radio: needs the KorQuAD file of the shared test data:", err)
		os.Exit(1)
	}
	var f struct {
		Data []struct {
			Title      string `json:"title"`
			Paragraphs []struct {
				Context string `json:"context"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		panic(err)
	}
	site := fstest.MapFS{}
	var plain strings.Builder
	for i, a := range f.Data[:*n] {
		title := strings.ReplaceAll(a.Title, "_", " ")
		var body strings.Builder
		plain.WriteString(title + "\n")
		for _, p := range a.Paragraphs[:min(*paras, len(a.Paragraphs))] {
			fmt.Fprintf(&body, "<p>%s</p>\n", html.EscapeString(p.Context))
			plain.WriteString(p.Context + "\n")
		}
		plain.WriteString("\n")
		page := fmt.Sprintf("<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>%s</title></head><body><h1>%s</h1>\n%s</body></html>\n",
			html.EscapeString(title), html.EscapeString(title), body.String())
		site[fmt.Sprintf("%02d.html", i)] = &fstest.MapFile{Data: []byte(page)}
	}
	text := []byte(plain.String())
	xzSize := xz(text)
	k, _ := key.Generate()
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "news-ko", Edition: 1, Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(site)}}, Profile: pack.ProfileRadio}); err != nil {
		panic(err)
	}
	data := buf.Bytes()
	chars := utf8.RuneCount(text)
	budget := int(1.15*float64(xzSize)) + 2048
	fmt.Printf("digest: %d articles, %d characters, plain text %d bytes, xz -9e %d bytes\n", *n, chars, len(text), xzSize)
	fmt.Printf("radio archive (pack --profile radio): %d bytes (%.3f × xz)\n", len(data), float64(len(data))/float64(xzSize))
	fmt.Printf("budget on air: 1.15 × xz + 2 KB = %d bytes\n\n", budget)
	fmt.Printf("| mode | frame payload | frames needed (K + announcement) | bytes on air | ÷ budget | airtime | per 1,000 characters |\n|---|---|---|---|---|---|---|\n")
	for _, m := range modem.Modes {
		size := m.PayloadSize()
		kk, anns, err := broadcast.AirSymbols(data, size)
		if err != nil {
			panic(err)
		}
		frames := kk + anns
		onAir := frames * size
		air := time.Duration(frames) * m.FrameDuration()
		per := time.Duration(float64(air) / float64(chars) * 1000)
		fmt.Printf("| %s | %d B | %d + %d | %d | %.3f | %s | %s |\n", m, size, kk, anns, onAir, float64(onAir)/float64(budget), air.Round(time.Second), per.Round(100*time.Millisecond))
	}
	if *seeds > 0 {
		var ms []modem.Mode
		for _, name := range strings.Split(*modes, ",") {
			m, err := modem.ParseMode(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "radio:", err)
				os.Exit(2)
			}
			ms = append(ms, m)
		}
		fadingSweep(data, ms, strings.Split(*fadings, ","), *seeds, *repair, *copies)
	}
}

// xz is the size of the text compressed by the xz program at -9e (the
// issue's measure), or by nothing when xz is not installed.
func xz(b []byte) int {
	cmd := exec.Command("xz", "-9e", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "radio: xz not installed (apt install xz-utils):", err)
		os.Exit(1)
	}
	return len(out)
}
