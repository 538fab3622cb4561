package reader

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ferry/internal/carry/mirror"
)

// TestNewerEditionShown: a channel whose newer edition the last 'ferry
// get' saw is shown with that edition, the date of the check and what it
// would fetch, in all three languages; a channel already up to date, a
// library without that file and a damaged file show nothing.
func TestNewerEditionShown(t *testing.T) {
	s := Sample()
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	m := s.Edition.Manifest()
	dir := t.TempDir()
	write := func(k mirror.Known) {
		t.Helper()
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, mirror.GetDir), 0o755)
		if err := os.WriteFile(filepath.Join(dir, mirror.GetDir, mirror.KnownFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checked := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	write(mirror.Known{Format: 1, Checked: checked, Channels: map[string]mirror.KnownChannel{
		m.Channel: {Latest: m.Edition + 4, Checked: checked, Held: m.Edition, UpdateBytes: 3 << 20, FullBytes: 40 << 20},
	}})
	s.LibraryDir = dir
	h := New([]Library{s}, Options{})
	want := map[string]string{
		"ko": "제" + strconv.FormatUint(m.Edition+4, 10) + "판이 나와 있습니다 (마지막 확인 2026-11-30, 받을 크기 3.0 MiB)",
		"kp": "제" + strconv.FormatUint(m.Edition+4, 10) + "판이 나와있습니다 (마지막 확인 2026-11-30, 받을 크기 3.0 MiB)",
		"en": "Edition " + strconv.FormatUint(m.Edition+4, 10) + " exists (last checked 2026-11-30, 3.0 MiB to fetch)",
	}
	for lang, text := range want {
		body := do(h, "GET", "/"+lang+"/").Body.String()
		if !strings.Contains(body, `<p class="fp-newer">`+text+`</p>`) {
			t.Errorf("%s home page does not say %q:\n%s", lang, text, body)
		}
	}

	// Up to date: nothing.
	write(mirror.Known{Format: 1, Checked: checked, Channels: map[string]mirror.KnownChannel{
		m.Channel: {Latest: m.Edition, Checked: checked, Held: m.Edition},
	}})
	if body := do(h, "GET", "/en/").Body.String(); strings.Contains(body, "fp-newer") {
		t.Error("a channel that is up to date is shown with a newer edition")
	}
	// A damaged file: nothing, and the page still works.
	os.WriteFile(filepath.Join(dir, mirror.GetDir, mirror.KnownFile), []byte("{not json"), 0o644)
	if w := do(h, "GET", "/en/"); w.Code != 200 || strings.Contains(w.Body.String(), "fp-newer") {
		t.Errorf("damaged known.json: %d", w.Code)
	}
	// No library folder (a plain archive): nothing is read.
	if body := do(New([]Library{Sample()}, Options{}), "GET", "/en/").Body.String(); strings.Contains(body, "fp-newer") {
		t.Error("a plain archive is shown with a newer edition")
	}
}
