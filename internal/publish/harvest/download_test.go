package harvest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlnwa/gowarc/v3"
)

func TestDownload(t *testing.T) {
	or := newOrigin(t)
	big := bytes.Repeat([]byte("ZIM-ish data "), 300_000) // 3.9 MB
	or.extra = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/files/wiki.zim":
			or.serve(w, r, "application/octet-stream", big)
		case "/files/stall.zim":
			w.Header().Set("Content-Length", "1000000")
			w.Write([]byte("a few bytes, then nothing"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	})
	o := testOptions(t)
	host := strings.ReplaceAll(strings.TrimPrefix(or.URL, "http://"), ":", "_")
	src := Source{Kind: File, URL: or.URL + "/files/wiki.zim", MaxSize: 10 << 20}
	sum, events := harvestOnce(t, o, src)
	if e := findEvent(events, "/files/wiki.zim"); e == nil || e.Result != Fetched || e.Bytes != int64(len(big)) {
		t.Fatalf("download event %+v", e)
	}
	got, err := os.ReadFile(filepath.Join(o.Out, host, "files", "wiki.zim"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("downloaded file: %d bytes, %v", len(got), err)
	}
	// The WARC has the exchange without the payload, and its digest.
	r, err := gowarc.NewWarcFileReader(sum.WARC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var meta string
	for rec, err := range r.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if rec.WarcRecord.Type() == gowarc.Metadata {
			b, _ := rec.WarcRecord.Block().RawBytes()
			var buf bytes.Buffer
			buf.ReadFrom(b)
			meta = buf.String()
		}
		rec.Close()
	}
	r.Close()
	if want := fmt.Sprintf("ferry-download-sha256: %x", sha256.Sum256(big)); !strings.Contains(meta, want) {
		t.Errorf("WARC metadata %q lacks %s", meta, want)
	}
	// Unchanged: a 304, and the file is in Out again.
	_, events = harvestOnce(t, o, src)
	if e := findEvent(events, "/files/wiki.zim"); e == nil || e.Result != Unchanged {
		t.Errorf("second download %+v", e)
	}
	if fi, err := os.Stat(filepath.Join(o.Out, host, "files", "wiki.zim")); err != nil || fi.Size() != int64(len(big)) {
		t.Errorf("file after an unchanged run: %v", err)
	}
	// Too large, and a server that goes silent.
	o2 := testOptions(t) // its timeout: only the silent server reaches it, so not shorter on a busy machine
	o2.Retries = -1
	_, events = harvestOnce(t, o2,
		Source{Kind: File, URL: or.URL + "/files/wiki.zim", MaxSize: 1 << 20},
		Source{Kind: File, URL: or.URL + "/files/stall.zim"})
	if e := findEvent(events, "/files/wiki.zim"); e == nil || !errors.Is(e.Err, ErrTooLarge) {
		t.Errorf("over the size limit: %+v", e)
	}
	if e := findEvent(events, "/files/stall.zim"); e == nil || !errors.Is(e.Err, ErrTimeout) {
		t.Errorf("stalled download: %+v", e)
	}
	if ents, _ := os.ReadDir(filepath.Join(o2.Out, host)); len(ents) != 0 {
		t.Errorf("failed downloads left %d files in Out", len(ents))
	}
}
