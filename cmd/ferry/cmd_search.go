package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/search"
)

func init() {
	register(&command{name: "search", summary: "full-text search an archive (Korean and English)", run: runSearch})
}

// searchResult is one line of 'ferry search --json'.
type searchResult struct {
	Path    string  `json:"path"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

func runSearch(ctx context.Context, args []string) error {
	fs := newFlags("search", "[--json] [--limit N] [--offset N] ARCHIVE QUERY...", `
Searches the archive's built-in full-text index and prints ranked results
with a snippet of text around the matched words, marked [like this]. Korean queries may keep their particles:
금강산의 높이 finds 금강산.`)
	asJSON := fs.Bool("json", false, "print a JSON array of {path, title, score, snippet}")
	limit := fs.Int("limit", 10, "number of results")
	offset := fs.Int("offset", 0, "skip this many results (for paging)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("give ARCHIVE and a QUERY")
	}
	r, err := archive.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	v, err := edition.Of(r)
	if err != nil {
		return err
	}
	query := strings.Join(pos[1:], " ")
	hits, total, err := v.Search(query, *offset, *limit)
	if err != nil {
		return err
	}
	results := make([]searchResult, 0, len(hits))
	m := search.NewMatcher(query)
	for _, h := range hits {
		res := searchResult{Path: h.Path, Title: h.Title, Score: h.Score}
		res.Snippet = render(edition.Snippet(v, h.Entry, m))
		results = append(results, res)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(results)
	}
	if len(results) == 0 {
		fmt.Printf("no results for %q\n", query)
		return nil
	}
	fmt.Printf("%d results for %q\n\n", total, query)
	for i, res := range results {
		fmt.Printf("%d. %s  (%s, score %.2f)\n   %s\n\n", *offset+i+1, res.Title, res.Path, res.Score, res.Snippet)
	}
	return nil
}

// render marks matched words as [word].
func render(frags []search.Fragment) string {
	var b strings.Builder
	for _, f := range frags {
		if f.Match {
			b.WriteString("[" + f.Text + "]")
		} else {
			b.WriteString(f.Text)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
