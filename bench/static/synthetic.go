package main

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/testkit/corpus"
)

// synthetic is an archive.Contents of n article pages made on the fly from
// templates: corpus pages (our own writing) with their title, keyword and
// links renumbered, so page i is "시험 글 i" / "Test article i" holding
// Keyword(i) and linking to three others. It stands for a packed archive
// of that size when packing one would take hours on a loaded machine:
// the export reads it as it reads an archive, only without
// decompression and verification.
type synthetic struct {
	n     int
	tmpl  [][]byte
	m     *archive.Manifest
	paths []string // sorted page paths; index.html first
}

const templates = 400

var (
	numRE  = regexp.MustCompile(`(시험 글 |Test article |낱말|word)(\d+)`)
	linkRE = regexp.MustCompile(`href="(\d+)\.html"`)
)

func newSynthetic(n int) (*synthetic, error) {
	fsys, err := corpus.Site(corpus.Options{Pages: templates, Seed: 3})
	if err != nil {
		return nil, err
	}
	s := &synthetic{n: n, m: &archive.Manifest{Channel: "big", Title: "큰 서고 (만든 글)", Edition: 1,
		Languages: []string{"ko", "en"}, MainPage: "index.html", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}}
	for i := 0; i < templates; i++ {
		s.tmpl = append(s.tmpl, fsys[corpus.PagePath(i)].Data)
	}
	s.paths = make([]string, 0, n+1)
	s.paths = append(s.paths, "index.html")
	for i := 0; i < n; i++ {
		s.paths = append(s.paths, pagePath(i))
	}
	sort.Strings(s.paths)
	s.m.Counts = archive.Counts{Entries: n + 1, Articles: n + 1}
	return s, nil
}

// pagePath spreads pages over folders of 1,000, as sites and Kiwix's
// A/ namespace never do (the export must cope with one folder too: see
// the flat option).
func pagePath(i int) string { return fmt.Sprintf("A/%07d.html", i) }

func (s *synthetic) Manifest() *archive.Manifest { return s.m }
func (s *synthetic) NumEntries() int             { return len(s.paths) }

func (s *synthetic) EntryAt(i int) (archive.Entry, error) {
	if i < 0 || i >= len(s.paths) {
		return archive.Entry{}, archive.ErrNotFound
	}
	p := s.paths[i]
	e := archive.Entry{Index: i, Path: p, MIME: "text/html", Size: 4096, Article: true}
	if p == "index.html" {
		e.Title = "시험 서고"
	} else {
		var k int
		fmt.Sscanf(path.Base(p), "%07d.html", &k)
		e.Title = corpus.Title(k)
	}
	return e, nil
}

func (s *synthetic) Lookup(p string) (archive.Entry, error) {
	i := sort.SearchStrings(s.paths, p)
	if i < len(s.paths) && s.paths[i] == p {
		return s.EntryAt(i)
	}
	return archive.Entry{}, archive.ErrNotFound
}

func (s *synthetic) Target(e archive.Entry) (archive.Entry, error) { return e, nil }

func (s *synthetic) ReadAll(e archive.Entry) ([]byte, error) {
	if e.Path == "index.html" {
		return []byte(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>시험 서고</title></head><body><h1>시험 서고</h1><p><a href="A/0000000.html">첫 글</a></p></body></html>`), nil
	}
	var k int
	fmt.Sscanf(path.Base(e.Path), "%07d.html", &k)
	t := s.tmpl[k%templates]
	// Keep the template's language (even pages Korean, odd English).
	if (k%templates)%2 != k%2 {
		t = s.tmpl[(k+1)%templates]
	}
	out := numRE.ReplaceAllFunc(t, func(m []byte) []byte {
		sub := numRE.FindSubmatch(m)
		return []byte(fmt.Sprintf("%s%d", sub[1], k))
	})
	out = linkRE.ReplaceAllFunc(out, func(m []byte) []byte {
		var j int
		fmt.Sscanf(string(linkRE.FindSubmatch(m)[1]), "%d", &j)
		return []byte(fmt.Sprintf(`href="%07d.html"`, (k*7919+j)%s.n))
	})
	return out, nil
}

func (s *synthetic) Open(e archive.Entry) (*io.SectionReader, error) {
	b, err := s.ReadAll(e)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))), nil
}

var _ archive.Contents = (*synthetic)(nil)

// keywordQueries are queries the bench times: the own words of pages
// spread over the archive.
func keywordQueries(n, count int) []string {
	var qs []string
	for i := 0; i < count; i++ {
		qs = append(qs, corpus.Keyword((i*104729+17)%n))
	}
	return qs
}

var _ = strings.TrimSpace
