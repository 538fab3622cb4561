package zim_test

import (
	"bytes"
	"ferry/internal/testkit/golden"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// The package's own ZIM files, written by writeZIM from the specs below
// (text of our own, in English and Korean). They cover what the real files
// in the shared test data cover, and more: ZIM 5 and 6, old and new
// namespaces, xz, zstd, zlib and uncompressed clusters, extended (64-bit)
// clusters, redirects (to articles and to resources), metadata, a
// favicon, the header's title list and the X/listing title indexes.
const (
	vecV5Old   = "testdata/v5-old-xz.zim"
	vecV60Old  = "testdata/v6.0-old-zlib.zim"
	vecV61New  = "testdata/v6.1-new-zstd.zim"
	vecV63Full = "testdata/v6.3-new-xz-listings.zim"
)

var ownFiles = []string{vecV5Old, vecV60Old, vecV61New, vecV63Full}

// tinyPNG is a real 2x2 PNG (deterministic: image/png writes no time).
func tinyPNG(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for x := 0; x < 2; x++ {
		for y := 0; y < 2; y++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func page(title, lang, body string) []byte {
	return []byte("<!DOCTYPE html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\"><title>" + title +
		"</title></head><body><h1>" + title + "</h1>" + body + "</body></html>")
}

// oldLayout is the content of the old-namespace vectors (A/, I/, -/, M/):
// pages link to "../I/..." and "../-/...", as mwoffliner wrote them.
func oldLayout(major, minor uint16, text, info byte) zimSpec {
	mimes := []string{"text/html", "image/png", "text/css", "text/plain"}
	home := page("Rivers and seas", "en", `<link rel="stylesheet" href="../-/s/style.css">`+
		`<p>Water runs from the hills to the sea. See <a href="Sea.html">the sea</a> and <a href="강.html">강</a>.</p>`+
		`<img src="../I/m/wave.png" alt="a wave">`)
	sea := page("The sea", "en", `<p>The sea is wide and salty. Back to <a href="Home.html">rivers</a>.</p><img src="../I/m/wave.png">`)
	river := page("강", "ko", `<p>강물은 산에서 바다로 흘러간다. 마을 사람들은 강가에서 빨래를 한다.</p><p><a href="Home.html">처음으로</a></p>`)
	css := []byte("body{font-family:serif;margin:1em}img{max-width:100%}")
	return zimSpec{
		major: major, minor: minor, mimes: mimes, titleList: true, main: "A/Main_Page.html",
		entries: []testEntry{
			{ns: 'A', url: "Home.html", title: "Rivers and seas", mime: 0, cluster: 0, blob: 0},
			{ns: 'A', url: "Sea.html", title: "The sea", mime: 0, cluster: 0, blob: 1},
			{ns: 'A', url: "강.html", title: "강", mime: 0, cluster: 0, blob: 2},
			{ns: 'A', url: "Main_Page.html", title: "Main Page", redirect: "A/Home.html"},
			{ns: 'A', url: "Rivers.html", title: "Rivers", redirect: "A/Main_Page.html"}, // a chain of two
			{ns: '-', url: "s/style.css", mime: 2, cluster: 0, blob: 3},
			{ns: '-', url: "favicon", redirect: "I/favicon.png"},
			{ns: 'I', url: "m/wave.png", mime: 1, cluster: 1, blob: 0},
			{ns: 'I', url: "favicon.png", mime: 1, cluster: 1, blob: 1},
			{ns: 'M', url: "Title", mime: 3, cluster: 0, blob: 4},
			{ns: 'M', url: "Language", mime: 3, cluster: 0, blob: 5},
			{ns: 'M', url: "Date", mime: 3, cluster: 0, blob: 6},
			{ns: 'M', url: "Description", mime: 3, cluster: 0, blob: 7},
			{ns: 'M', url: "Creator", mime: 3, cluster: 0, blob: 8},
			{ns: 'M', url: "Publisher", mime: 3, cluster: 0, blob: 9},
		},
		clusters: []testCluster{
			{info: text, blobs: [][]byte{home, sea, river, css,
				[]byte("Water test book"), []byte("eng"), []byte("2024-05-01"),
				[]byte("Rivers, seas and 강: a test ZIM written for ferry"), []byte("ferry tests"), []byte("ferry")}},
			{info: info, blobs: [][]byte{tinyPNG(color.RGBA{0, 90, 200, 255}), tinyPNG(color.RGBA{200, 0, 0, 255})}},
		},
	}
}

// newLayout is the content of the new-namespace vectors (C/, M/, W/, X/):
// pages link relative to C/.
func newLayout(major, minor uint16, text, media byte, listings, titleList bool) zimSpec {
	mimes := []string{"text/html", "image/png", "text/css", "text/plain", "application/octet-stream+zimlisting"}
	index := page("Welcome", "en", `<link rel="stylesheet" href="style.css"><p>This small book has a page in
<a href="ko/산.html">Korean</a> and a <a href="notes/plain.html">plain page</a>.</p><img src="img/dot.png" alt="">`)
	mountain := page("산", "ko", `<p>높은 산에 오르면 멀리 있는 마을이 보인다. 봄에는 진달래가 핀다.</p>`+
		`<p><a href="../index.html">첫 페지</a> <img src="../img/dot.png"></p>`)
	plain := page("A plain page", "en", `<p>Nothing here but words, and a link <a href="../index.html">home</a>.</p>`)
	css := []byte("h1{color:#035}")
	spec := zimSpec{
		major: major, minor: minor, mimes: mimes, listings: listings, titleList: titleList,
		entries: []testEntry{
			{ns: 'C', url: "index.html", title: "Welcome", mime: 0, cluster: 0, blob: 0},
			{ns: 'C', url: "ko/산.html", title: "산", mime: 0, cluster: 0, blob: 1},
			{ns: 'C', url: "notes/plain.html", title: "A plain page", mime: 0, cluster: 0, blob: 2},
			{ns: 'C', url: "style.css", mime: 2, cluster: 0, blob: 3},
			{ns: 'C', url: "img/dot.png", mime: 1, cluster: 1, blob: 0},
			{ns: 'C', url: "old-welcome.html", title: "Old welcome", redirect: "C/index.html"},
			{ns: 'C', url: "mountain.html", title: "Mountain", redirect: "C/ko/산.html"},
			{ns: 'M', url: "Title", mime: 3, cluster: 0, blob: 4},
			{ns: 'M', url: "Language", mime: 3, cluster: 0, blob: 5},
			{ns: 'M', url: "Date", mime: 3, cluster: 0, blob: 6},
			{ns: 'M', url: "Counter", mime: 3, cluster: 0, blob: 7},
			{ns: 'M', url: "Illustration_48x48@1", mime: 1, cluster: 1, blob: 1},
			{ns: 'W', url: "mainPage", redirect: "C/index.html"},
		},
		clusters: []testCluster{
			{info: text, blobs: [][]byte{index, mountain, plain, css,
				[]byte("Mountains test book"), []byte("kor,eng"), []byte("2025-01-02"), []byte("text/html=3;image/png=1;text/css=1")}},
			{info: media, blobs: [][]byte{tinyPNG(color.RGBA{0, 160, 0, 255}), tinyPNG(color.RGBA{250, 200, 0, 255})}},
		},
	}
	return spec
}

// vectorSpecs maps each committed vector to its spec.
func vectorSpecs() map[string]zimSpec {
	return map[string]zimSpec{
		vecV5Old:   oldLayout(5, 0, 0x04, 0x01),
		vecV60Old:  oldLayout(6, 0, 0x12, 0x11), // zlib and plain, both extended
		vecV61New:  newLayout(6, 1, 0x15, 0x01, false, false),
		vecV63Full: newLayout(6, 3, 0x04, 0x11, true, true),
	}
}

// TestVectors checks the committed vectors are what the specs write (so a
// change to either is seen) and rewrites them with -update.
func TestVectors(t *testing.T) {
	for name, spec := range vectorSpecs() {
		b := writeZIM(t, spec)
		golden.Check(t, name, b)
	}
}
