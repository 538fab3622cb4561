package search

import (
	"errors"
	"ferry/internal/htmltext"
	"iter"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSnippetWindow(t *testing.T) {
	text := strings.Repeat("filler words here. ", 30) + "Two cards went by radio. " + strings.Repeat("more text ", 40)
	frags := Snippet(text, "card", 120)
	var marked []string
	n := 0
	for _, f := range frags {
		if f.Match {
			marked = append(marked, f.Text)
		}
		n += len([]rune(f.Text))
	}
	if len(marked) != 1 || marked[0] != "cards" {
		t.Errorf("marked %q", marked)
	}
	if n > 130 || frags[0].Text != "… " {
		t.Errorf("snippet of %d runes, starts %q", n, frags[0].Text)
	}
	if f := Snippet("", "x", 100); len(f) != 0 {
		t.Errorf("empty text: %v", f)
	}
}

// TestSnippetFilter checks that the matcher's quick pre-test never hides a
// match the analyzer finds: every query made of a word of the sample
// pages in Korean and English, against every word near it, plus words the
// pre-test must pass to the analyzer.
func TestSnippetFilter(t *testing.T) {
	k := loadSample(t)
	var texts []string
	for _, title := range []string{"정보를 찾고 받을 권리", "검색하기", "Searching"} {
		i := slices.Index(k.titles, title)
		if i < 0 {
			t.Fatalf("no sample page %q", title)
		}
		texts = append(texts, k.bodies[i])
	}
	snippetFilter(t, texts)
}

// snippetFilter runs the check on the first 300 words of each text.
func snippetFilter(t *testing.T, texts []string) {
	var words []string
	for _, text := range texts {
		ws := strings.FieldsFunc(text, func(r rune) bool { return !wordRune(r) })
		words = append(words, ws[:min(len(ws), 300)]...)
	}
	// Mixed scripts, full-width forms, decomposed Hangul (conjoining jamo).
	words = append(words, "Ray의", "1950년", "ＲＡＹ", "\u1112\u1161\u11ab\u1100\u116e\u11a8", "iPhone", "DYING", "대통령이",
		"İstanbul", "İzmir", "۱۹۹۰", "١٩٥٠", "\u212Aelvin")
	queries := append([]string{"ray", "한국", "phone", "die", "통령", "istanbul", "izmir", "1990", "1950", "kelvin"}, words...)
	checked := 0
	for _, q := range queries {
		m := NewMatcher(q)
		if !m.filter {
			continue
		}
		for _, w := range words {
			if m.exact([]byte(w)) {
				checked++
				if !m.mayMatch([]byte(w)) {
					t.Errorf("query %q: pre-test drops %q (terms %v)", q, w, Terms(w))
				}
			}
		}
	}
	if checked < 500 {
		t.Errorf("only %d matching pairs checked", checked)
	}
}

// TestSnippetRereadFails cuts a snippet from held text whose page can no
// longer be read (a card pulled out): no panic, the held text is used.
func TestSnippetRereadFails(t *testing.T) {
	held := []byte(strings.Repeat("filler words ", 46) + "needle")
	for _, open := range []func() (iter.Seq[string], error){
		func() (iter.Seq[string], error) { return nil, errors.New("card removed") },
		func() (iter.Seq[string], error) { return func(func(string) bool) {}, nil }, // reads back empty
	} {
		s := NewText(open, "", held, false)
		frags := s.Snippet(NewMatcher("needle"), 100)
		s.Close()
		var marked []string
		for _, f := range frags {
			if f.Match {
				marked = append(marked, f.Text)
			}
		}
		if len(marked) != 1 || marked[0] != "needle" {
			t.Errorf("marked %q", marked)
		}
	}
}

// TestSnippetLongPage reads a page of one huge paragraph without a match:
// the stream stops after maxStreamText, the snippet ends with " …", and
// the text is too long to be kept.
func TestSnippetLongPage(t *testing.T) {
	page := "<p>" + strings.Repeat("lorem ipsum dolor ", 200000) + "</p>"
	s := NewText(func() (iter.Seq[string], error) { return htmltext.Pieces([]byte(page)), nil }, "", nil, false)
	frags := s.Snippet(NewMatcher("absent"), 100)
	s.Close()
	if len(s.buf) > maxStreamText {
		t.Errorf("read %d bytes of text, limit %d", len(s.buf), maxStreamText)
	}
	if len(frags) == 0 || frags[len(frags)-1].Text != " …" {
		t.Errorf("snippet %v", frags)
	}
	if !s.truncated {
		t.Error("not marked truncated")
	}
}

// FuzzSnippet cuts snippets from arbitrary article text (text comes from
// archives, which may be hostile): no panic, marked words come from the
// text, and the snippet stays near its length limit.
func FuzzSnippet(f *testing.F) {
	f.Add("Two cards went by radio.", "card", 40)
	f.Add("라지오를 듣고 라지오로 보냅니다", "라지오", 10)
	f.Add("\xff\xfe broken \u0301 marks", "marks", 3)
	f.Fuzz(func(t *testing.T, text, query string, max int) {
		if max < 1 || max > 1000 || len(text) > 1<<16 {
			return
		}
		n := 0
		for _, fr := range Snippet(text, query, max) {
			if fr.Match && (fr.Text == "" || !strings.Contains(text, fr.Text)) {
				t.Fatalf("marked %q is not in the text", fr.Text)
			}
			n += utf8.RuneCountInString(fr.Text)
		}
		if n > max+4 {
			t.Fatalf("snippet of %d runes for max %d", n, max)
		}
	})
}
