package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/testkit/packtest"
)

// sample is a real two-edition index: a full edition 1 and edition 2 with
// its delta, over archives packed for it, with their manifests.
func sample(t testing.TB) (*Index, *key.Secret) {
	t.Helper()
	s, err := key.FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(b []byte, k string) Archive {
		r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		m, sg, err := Head(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		return Archive{Object: Object{Key: k, Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])}, ID: r.ID(), Manifest: m, Signatures: sg}
	}
	page := func(s string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("<html><head><title>" + s + "</title></head><body><p>" + s + " 소식</p></body></html>")}
	}
	b1 := packtest.FS(t, fstest.MapFS{"index.html": page("one"), "a.html": page("a")}, archive.Info{Channel: "news", Edition: 1, Title: "t"})
	b2 := packtest.FS(t, fstest.MapFS{"index.html": page("two"), "a.html": page("a")}, archive.Info{Channel: "news", Edition: 2, Title: "t"})
	f1 := mk(b1, EditionKey("news", 1))
	f2 := mk(b2, EditionKey("news", 2))
	d2 := f2 // a stand-in delta: same bytes, another key
	d2.Key = DeltaKey("news", 2, 1)
	d2.ID = strings.Repeat("ab", 32)
	d2.Manifest, d2.Signatures = nil, nil
	d2.Base, d2.BaseEdition = f1.ID, 1
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Index{Channel: "news", Title: "소식", Languages: []string{"ko"}, Sequence: 2, Updated: now, Latest: 2, Tip: d2.ID,
		Editions: []Edition{
			{Edition: 1, Created: now, Entries: 3, Articles: 2, Full: f1,
				WARC: []Object{{Key: WARCKey("news", 1, "ferry-harvest-1.warc.gz"), Size: 10, SHA256: strings.Repeat("0", 64)}}},
			{Edition: 2, Created: now, Entries: 3, Articles: 2, Full: f2, Delta: &d2},
		}}, s
}

func TestRoundTrip(t *testing.T) {
	ix, s := sample(t)
	b, err := Sign(ix, []*key.Secret{s})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SignedBy(s.Public()) || got.Latest != 2 || len(got.Chain(got.Tip)) != 2 || len(got.Keys()) != 4 {
		t.Fatalf("parsed: %+v", got.Index)
	}
	r, err := got.Editions[1].Full.Open()
	if err != nil || r.Manifest().Edition != 2 || !r.SignedBy(packtest.Key(t).Public()) {
		t.Fatalf("head open: %v", err)
	}
	if _, err := got.Editions[1].Delta.Open(); !errors.Is(err, ErrFormat) {
		t.Fatalf("open without a manifest: %v", err)
	}
}

// TestRefused: every tampering and inconsistency is refused.
func TestRefused(t *testing.T) {
	ix, s := sample(t)
	good, err := Sign(ix, []*key.Secret{s})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	json.Unmarshal(good, &env)
	// resign applies f to a copy of the index and signs it.
	resign := func(f func(*Index)) []byte {
		c, _ := sample(t)
		f(c)
		body, _ := json.Marshal(c)
		msg := append([]byte(sigPrefix), body...)
		e := envelope{Format: 1, Type: typeIndex, Index: body, Signatures: []signature{{Key: s.Public().String(), Sig: s.Sign(msg)}}}
		b, _ := json.Marshal(e)
		return b
	}
	cases := map[string][]byte{
		"flipped byte": bytes.Replace(good, []byte(`"sig": "`), []byte(`"sig": "A`), 1),
		"trailing":     append(append([]byte{}, good...), []byte("{}")...),
		"duplicate":    bytes.Replace(good, []byte(`"format": 1,`), []byte(`"format": 1, "Format": 1,`), 1),
		"newer":        bytes.Replace(good, []byte(`"format": 1,`), []byte(`"format": 2,`), 1),
		"no sigs":      bytes.Replace(good, []byte(`"signatures"`), []byte(`"sigs"`), 1),
		"order":        resign(func(c *Index) { c.Editions[0].Edition = 3 }),
		"latest":       resign(func(c *Index) { c.Latest = 1 }),
		"tip":          resign(func(c *Index) { c.Tip = c.Editions[0].Full.ID }),
		"key":          resign(func(c *Index) { c.Editions[1].Full.Key = "other/editions/000002.ferry" }),
		"warc":         resign(func(c *Index) { c.Editions[0].WARC[0].Key = "news/warc/000001/../x.warc.gz" }),
		"manifest":     resign(func(c *Index) { c.Editions[0].Full.ID = strings.Repeat("cd", 32) }),
		"size":         resign(func(c *Index) { c.Editions[0].Full.Size = -1 }),
		"base":         resign(func(c *Index) { c.Editions[1].Delta.BaseEdition = 2 }),
		"channel":      resign(func(c *Index) { c.Channel = "channels.json" }),
		"sequence":     resign(func(c *Index) { c.Sequence = 0 }),
		"dup id":       resign(func(c *Index) { c.Editions[1].Delta.ID = c.Editions[1].Full.ID }),
		"not json":     []byte("<html>"),
		"huge":         bytes.Repeat([]byte(" "), MaxIndexSize+1),
	}
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "newer" && !errors.Is(err, ErrNewer) {
			t.Errorf("newer: %v", err)
		}
	}
}

func TestChannels(t *testing.T) {
	ix, _ := sample(t)
	c := &Channels{Channels: []Channel{ChannelOf(ix)}}
	b, err := MarshalChannels(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseChannels(b)
	if err != nil || got.Find("news") == nil || got.Find("news").Delta == nil {
		t.Fatalf("%v %+v", err, got)
	}
	bad := [][]byte{
		bytes.Replace(b, []byte(`editions/000002`), []byte(`editions/000003`), 1),
		bytes.Replace(b, []byte(`"ferry-channels"`), []byte(`"ferry-index"`), 1),
	}
	c2 := &Channels{Channels: []Channel{ChannelOf(ix), ChannelOf(ix)}}
	if _, err := MarshalChannels(c2); err == nil {
		t.Error("a channel twice was written")
	}
	for i, b := range bad {
		if _, err := ParseChannels(b); err == nil {
			t.Errorf("bad list %d accepted", i)
		}
	}
}

func TestKeys(t *testing.T) {
	if k := EditionKey("news", 42); k != "news/editions/000042.ferry" {
		t.Error(k)
	}
	if n, ok := ParseEditionKey("news", "news/editions/1000000.ferry"); !ok || n != 1000000 {
		t.Error(n, ok)
	}
	for _, k := range []string{"news/editions/42.ferry", "news/editions/00004x.ferry", "news/editions/000000.ferry", "other/editions/000001.ferry"} {
		if _, ok := ParseEditionKey("news", k); ok {
			t.Errorf("%s parsed", k)
		}
	}
}

// FuzzParse: hostile bytes from a mirror never panic; an index that parses
// has consistent chains.
func FuzzParse(f *testing.F) {
	ix, s := sample(f)
	good, _ := Sign(ix, []*key.Secret{s})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"format":1,"type":"ferry-channel-index","index":"e30=","signatures":[]}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Parse(b)
		if err != nil {
			return
		}
		if got.Chain(got.Tip) == nil {
			t.Fatal("tip without a chain")
		}
		for _, e := range got.Editions {
			e.Full.Open()
		}
	})
}

func FuzzParseChannels(f *testing.F) {
	ix, _ := sample(f)
	b, _ := MarshalChannels(&Channels{Channels: []Channel{ChannelOf(ix)}})
	f.Add(b)
	f.Add([]byte(`{"format":1,"type":"ferry-channels","channels":[{"name":"a"},{"name":"a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseChannels(b)
	})
}
