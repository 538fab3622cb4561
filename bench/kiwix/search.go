package main

import (
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The result links of each server's search page. kiwix-serve lists results
// in <div class="results"> as <a href="/BOOK/PATH">; ferry in
// <ol class="fp-results"> as <a class="fp-rt" href="/a/NAME/PATH"> (the
// title matches above that list are left out: only the ranked results count).
var (
	kiwixLink = regexp.MustCompile(`<a href="(/[^"]+)">`)
	ferryLink = regexp.MustCompile(`<a class="fp-rt" href="(/[^"]+)">`)
)

// search asks each question over HTTP, one at a time, and measures each
// request (send to last body byte). With -quality it also checks whether
// the expected article is among the first 1 and 3 results.
func search(args []string) error {
	fs := flag.NewFlagSet("search", flag.ExitOnError)
	kind := fs.String("kind", "", "kiwix or ferry")
	or := fs.Bool("or", false, "kiwix: join the query's words with OR (Xapian's default is AND), so it ranks every page holding any of them, as ferry does")
	base := fs.String("base", "", "server, e.g. http://127.0.0.1:8080")
	book := fs.String("book", "", "kiwix book name or ferry library name")
	qfile := fs.String("questions", "", "file of QUERY<TAB>EXPECTED-TITLE lines (EXPECTED optional)")
	n := fs.Int("n", 300, "number of questions (0: all)")
	quality := fs.Bool("quality", false, "report top-1/top-3 hit rates")
	pid := fs.Int("pid", 0, "server process: also report its CPU time per query (from /proc/PID/stat)")
	fs.Parse(args)
	lines, err := readLines(*qfile)
	if err != nil {
		return err
	}
	lines = sample(lines, *n)
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var lat []time.Duration
	top1, top3, answered := 0, 0, 0
	cpu0, err := cpuTicks(*pid)
	if err != nil {
		return err
	}
	for _, l := range lines {
		q, want, _ := strings.Cut(l, "\t")
		var u, startTag string
		var link *regexp.Regexp
		switch *kind {
		case "kiwix":
			pattern := q
			if *or {
				pattern = orJoin(q)
			}
			u = fmt.Sprintf("%s/search?content=%s&pattern=%s&pageLength=10", *base, url.QueryEscape(*book), url.QueryEscape(pattern))
			startTag, link = `<div class="results">`, kiwixLink
		case "ferry":
			u = fmt.Sprintf("%s/search?in=%s&q=%s", *base, url.QueryEscape(*book), url.QueryEscape(q))
			startTag, link = `<ol class="fp-results"`, ferryLink
		default:
			return fmt.Errorf("search: -kind must be kiwix or ferry")
		}
		st := time.Now()
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(st)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("search %s: %s", u, resp.Status)
		}
		lat = append(lat, d)
		page := string(body)
		i := strings.Index(page, startTag)
		if i < 0 {
			continue // no results
		}
		answered++
		if !*quality {
			continue
		}
		var got []string
		for _, m := range link.FindAllStringSubmatch(page[i:], 3) {
			got = append(got, resultTitle(html.UnescapeString(m[1])))
		}
		for k, g := range got {
			if sameArticle(g, want) {
				if k == 0 {
					top1++
				}
				top3++
				break
			}
		}
	}
	fmt.Printf("p50_ms %.3f\np99_ms %.3f\nmax_ms %.3f\nanswered %d\n", ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(pct(lat, 1)), answered)
	if *pid > 0 {
		cpu1, err := cpuTicks(*pid)
		if err != nil {
			return err
		}
		fmt.Printf("cpu_ms %.3f\n", float64(cpu1-cpu0)*1000/clockTicks/float64(len(lines)))
	}
	if *quality {
		fmt.Printf("top1 %.4f\ntop3 %.4f\nqueries %d\n", float64(top1)/float64(len(lines)), float64(top3)/float64(len(lines)), len(lines))
	}
	return nil
}

// orJoin joins the words of a query with OR for Xapian's query parser
// (punctuation that parser treats as syntax is dropped).
func orJoin(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool {
		return r == ' ' || r == '?' || r == '"' || r == '(' || r == ')' || r == '+' || r == '-' || r == ','
	})
	return strings.Join(words, " OR ")
}

// resultTitle turns a result URL (/BOOK/A/TITLE or /a/NAME/A/TITLE) into
// the article title.
func resultTitle(href string) string {
	if p, err := url.PathUnescape(href); err == nil {
		href = p
	}
	if i := strings.Index(href, "/A/"); i >= 0 {
		return href[i+3:]
	}
	return href
}

// sameArticle reports whether got is the expected article or one of its
// copies (TITLE_(n)) in a larger corpus.
func sameArticle(got, want string) bool {
	if got == want {
		return true
	}
	rest, ok := strings.CutPrefix(got, want+"_(")
	if !ok || !strings.HasSuffix(rest, ")") {
		return false
	}
	for _, c := range rest[:len(rest)-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(rest) > 1
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat
// (100 on every Linux build).
const clockTicks = 100

// cpuTicks returns the user+system CPU time of process pid in clock ticks
// (0 for pid 0).
func cpuTicks(pid int) (int64, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start at ")".
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	return u + st, nil
}
