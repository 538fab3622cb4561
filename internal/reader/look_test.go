package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/packtest"
	"ferry/internal/testkit/shared"
)

// packSource packs a real source file (a ZIM, an EPUB, a feed) from the
// shared test data, as ferry pack does; it skips without it.
func packSource(t *testing.T, rel, channel string) Library {
	t.Helper()
	p := shared.Path(t, rel)
	if b, ok := packed.Load(rel); ok {
		return openBytes(t, channel, b.([]byte))
	}
	src, err := pack.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: channel, Title: channel},
		Signers: []*key.Secret{packtest.Key(t)}, Sources: []pack.Source{{Source: src}}}); err != nil {
		t.Fatalf("packing %s: %v", rel, err)
	}
	packed.Store(rel, buf.Bytes())
	return openBytes(t, channel, buf.Bytes())
}

// hostileStyles are pages whose style sheets attack the bar: each rule
// here once restyled it or could have.
var hostileStyles = map[string]string{
	"column":  `div{position:fixed;width:20%;height:100%} a{display:block;font-size:40px} form{display:none}`,
	"revert":  `*{all:revert !important} *{all:unset}`,
	"flex":    `body{display:flex;flex-direction:row;align-items:stretch;margin:0} body>*{width:30%}`,
	"grid":    `body{display:grid;grid-template-columns:100px 1fr;margin:0}`,
	"boxes":   `*{box-sizing:content-box !important;padding:20px;margin:15px;border:3px solid red;font:italic 30px serif;letter-spacing:5px;text-transform:uppercase;line-height:3}`,
	"inputs":  `input,button{width:500px !important;height:80px;font-size:50px;background:red;border-radius:0} ul{display:block !important}`,
	"root":    `html{font-size:5px;writing-mode:vertical-rl;direction:rtl;color:red} body{margin:0}`,
	"layered": `@layer page{body *{display:none !important;color:red !important;position:static !important}} @layer page{p{display:block !important}}`,
	"names":   `[id^=ferry]{display:none !important} [class^=fb-]{visibility:hidden !important} body>*:first-child{float:right;width:10px !important}`,
	"hidden":  `[hidden]{display:block !important} ul{display:block !important;list-style:disc}`,
}

// barLook is what TestBarLooksTheSame compares: the bar's size and the
// computed styles of its parts.
type barLook struct {
	W, H   float64
	Styles map[string]string
}

const barLookJS = `(function(){
  var bar = document.getElementById('ferry-bar'), r = bar.getBoundingClientRect(), out = {W: r.width, H: r.height, Styles: {at: Math.round(r.left + scrollX) + ',' + Math.round(r.top + scrollY)}};
  var props = ['display','position','font-size','font-family','font-weight','font-style','color','background-color','padding-top','padding-left','margin-top','border-top-width','line-height','text-transform','letter-spacing','box-sizing','writing-mode','visibility'];
  var parts = {bar: bar, home: bar.querySelector('.fb-home'), input: bar.querySelector('#fb-q'), button: bar.querySelector('button'),
    links: bar.querySelector('.fb-set'), link: bar.querySelector('.fb-set a'), go: bar.querySelector('.fb-go a'), hide: bar.querySelector('#ferry-hide'), suggest: bar.querySelector('#fb-suggest')};
  for (var k in parts) { var cs = getComputedStyle(parts[k]); for (var i = 0; i < props.length; i++) { out.Styles[k + ' ' + props[i]] = cs.getPropertyValue(props[i]); } }
  var hb = parts.hide.getBoundingClientRect(); out.Styles['hide box'] = Math.round(hb.width) + 'x' + Math.round(hb.height) + ' right ' + Math.round(innerWidth - hb.right) + ' top ' + Math.round(hb.top);
  return JSON.stringify(out);
})()`

// TestBarLooksTheSame opens ferry's bar on a plain page, on pages whose
// style sheets attack it, and on the main pages of real ZIMs packed by
// ferry (the Ray Charles ZIM's CSS once made it a full-height left
// column): its size and the computed styles of its parts must be those of
// the plain page (issue 13, item 10). Screenshots go to shotDir.
func TestBarLooksTheSame(t *testing.T) {
	fs := fstest.MapFS{"plain.html": {Data: []byte("<!DOCTYPE html><html><head><title>plain</title></head><body><p>plain text</p></body></html>")}}
	for name, css := range hostileStyles {
		fs[name+".html"] = &fstest.MapFile{Data: []byte("<!DOCTYPE html><html><head><title>" + name + "</title><style>" + css +
			"</style></head><body><div><p>text of a page whose style attacks the bar</p></div><form><input></form></body></html>")}
	}
	libs := []Library{openBytes(t, "own", packtest.FS(t, fs, archive.Info{Channel: "own", Title: "own"}))}
	pages := []string{"/a/own/plain.html"}
	for name := range hostileStyles {
		pages = append(pages, "/a/own/"+name+".html")
	}
	for _, z := range []struct{ rel, name string }{
		{"zim/wikipedia_en_ray_charles_mini_2020-03.zim", "ray"},
		{"zim/wikibooks_be_all_nopic_2017-02.zim", "wikibooks"},
	} {
		if shared.Root() == "" {
			break
		}
		if _, err := os.Stat(filepath.Join(shared.Root(), z.rel)); err != nil {
			t.Logf("%s not in the shared test data: not checked", z.rel)
			continue
		}
		l := packSource(t, z.rel, z.name)
		libs = append(libs, l)
		pages = append(pages, "/a/"+z.name+"/")
	}
	srv := newServer(t, libs, Options{})
	ctx := browser.New(t, 120*time.Second)
	dir := shotDir(t)
	var want barLook
	for i, p := range pages {
		var js string
		var err error
		for _, width := range []int{360, 1000} {
			if err = chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 740), chromedp.Navigate(srv.URL+p), chromedp.WaitReady("#ferry-bar")); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if js, err = chromedp.Run(ctx, chromedp.Evaluate[string](barLookJS)); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			var got barLook
			if err := json.Unmarshal([]byte(js), &got); err != nil {
				t.Fatal(err)
			}
			name := strings.NewReplacer("/", "_", ".", "_").Replace(strings.Trim(p, "/"))
			if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
				os.WriteFile(filepath.Join(dir, "bar-"+name+"-"+itoa(width)+".png"), buf, 0o644)
			}
			if width != 360 {
				continue // the wide look is only screenshot
			}
			if i == 0 {
				want = got
				continue
			}
			if d := got.W - want.W; d < -1 || d > 1 || got.H-want.H < -1 || got.H-want.H > 1 {
				t.Errorf("%s: bar is %.0f×%.0f px, on a plain page %.0f×%.0f", p, got.W, got.H, want.W, want.H)
			}
			for k, v := range want.Styles {
				if got.Styles[k] != v {
					t.Errorf("%s: bar %s is %q, on a plain page %q", p, k, got.Styles[k], v)
				}
			}
		}
	}
	t.Logf("bar on %d pages compared; screenshots in %s", len(pages), dir)
}
