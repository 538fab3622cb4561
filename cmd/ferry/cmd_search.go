package main

import (
	"context"
	"encoding/json"
	"flag"
	"strings"

	"ferry/internal/edition"
	"ferry/internal/search"
)

func init() {
	register(&command{name: "search", usage: "[--json] [--limit N] [--offset N] ARCHIVE QUERY...",
		summary: "full-text search an archive (Korean and English)",
		about: `
Searches the archive's built-in full-text index and prints ranked results
with a snippet of text around the matched words, marked [like this]: the
same snippet the web reader shows. Korean queries may keep their particles:
금강산의 높이 finds 금강산.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o searchOptions
			fs.BoolVar(&o.JSON, "json", false, "print a JSON array of {path, title, score, snippet}")
			fs.IntVar(&o.Limit, "limit", 10, "number of results (1 or more)")
			fs.IntVar(&o.Offset, "offset", 0, "skip this many results (for paging)")
			return func(ctx context.Context, t *terminal, args []string) error { return runSearch(ctx, t, o, args) }
		}})
}

type searchOptions struct {
	JSON          bool
	Limit, Offset int
}

// searchResult is one result of 'ferry search --json'.
type searchResult struct {
	Path    string  `json:"path"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
	Snippet string  `json:"snippet"`
}

func runSearch(ctx context.Context, t *terminal, o searchOptions, args []string) error {
	if len(args) < 2 {
		return usagef("give ARCHIVE and a QUERY")
	}
	if o.Limit < 1 {
		return usagef("--limit must be 1 or more (it is %d)", o.Limit)
	}
	if o.Offset < 0 {
		return usagef("--offset must not be negative")
	}
	r, err := openArchive(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	v, err := edition.Of(r)
	if err != nil {
		return err
	}
	query := strings.Join(args[1:], " ")
	hits, total, err := v.Search(query, o.Offset, o.Limit)
	if err != nil {
		return err
	}
	results := make([]searchResult, 0, len(hits))
	m := search.NewMatcher(query)
	for _, h := range hits {
		results = append(results, searchResult{Path: h.Path, Title: h.Title, Score: h.Score,
			Snippet: render(edition.Snippet(v, h.Entry, m))})
	}
	if o.JSON {
		enc := json.NewEncoder(t.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(results)
	}
	if total == 0 {
		t.printf("no results for %q\n", query)
		return nil
	}
	t.printf("%s for %q\n\n", count(total, "result"), query)
	if len(results) == 0 {
		t.printf("(no results from number %d on)\n", o.Offset+1)
	}
	for i, res := range results {
		t.printf("%d. %s  (%s, score %.2f)\n   %s\n\n", o.Offset+i+1, res.Title, res.Path, res.Score, res.Snippet)
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
