package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// sectionHeading is the heading of the part of docs/benchmarks.md that
// this benchmark owns.
const sectionHeading = "## Side by side with Kiwix"

// keepHeading starts hand-written notes inside the section that a new
// report keeps.
const keepHeading = "### Analysis"

// results holds every measurement: key → values (one per repetition), and
// key → text for the meta lines.
type results struct {
	nums map[string][]float64
	text map[string]string
}

func loadResults(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &results{nums: map[string][]float64{}, text: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(k, "meta.") {
			r.text[k] = v
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("results: %q: %w", sc.Text(), err)
		}
		r.nums[k] = append(r.nums[k], x)
	}
	return r, sc.Err()
}

// median of the key's values, NaN when it was not measured.
func (r *results) median(k string) float64 {
	v := append([]float64(nil), r.nums[k]...)
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// row is one line of the ratio table.
type row struct {
	what, corpus, key string // key without the .kiwix/.ferry part: PREFIX.TOOL.SUFFIX
	unit              string
	scale             float64 // shown value = median × scale
	goal              string  // "<= 0.9", ">= 2", or ""
}

func (w row) keys() (string, string) {
	pre, suf, _ := strings.Cut(w.key, "*")
	return pre + "kiwix" + suf, pre + "ferry" + suf
}

func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	resFile := fs.String("results", "", "measurements, lines KEY VALUE")
	doc := fs.String("doc", "", "docs/benchmarks.md to update (empty: print only)")
	fs.Parse(args)
	r, err := loadResults(*resFile)
	if err != nil {
		return err
	}
	small := "KorQuAD ×1 (" + r.text["meta.small_mb"] + " MB)"
	large := "KorQuAD ×" + r.text["meta.copies"] + " (" + r.text["meta.large_mb"] + " MB), copies spread"
	adjacent := "KorQuAD ×" + r.text["meta.copies"] + " (" + r.text["meta.large_mb"] + " MB), copies side by side"
	ray := "Ray Charles ZIM"
	lz := "KorQuAD ×" + r.text["meta.copies"] + " ZIM"
	sz := "KorQuAD ×1 ZIM"
	rows := []row{
		{"archive size", small, "pack.small.*.size", "MB", 1e-6, "<= 0.9"},
		{"archive size", large, "pack.large.*.size", "MB", 1e-6, "<= 0.9"},
		{"archive size", adjacent, "pack.adjacent.*.size", "MB", 1e-6, "<= 0.9"},
		{"pack wall time", small, "pack.small.*.wall", "s", 1, "<= 0.5"},
		{"pack wall time", large, "pack.large.*.wall", "s", 1, "<= 0.5"},
		{"pack CPU time (user+sys)", small, "pack.small.*.cpu", "s", 1, "<= 0.5"},
		{"pack CPU time (user+sys)", large, "pack.large.*.cpu", "s", 1, "<= 0.5"},
		{"pack CPU time (user+sys)", adjacent, "pack.adjacent.*.cpu", "s", 1, "<= 0.5"},
		{"pack peak memory", small, "pack.small.*.maxrss_kb", "MB", 1e-3, ""},
		{"pack peak memory", large, "pack.large.*.maxrss_kb", "MB", 1e-3, "<= 0.5"},
		{"serve requests/s (wrk)", ray, "serve.ray.*.rps", "req/s", 1, ">= 2"},
		{"serve requests/s (wrk)", lz, "serve.large.*.rps", "req/s", 1, ">= 2"},
		{"server CPU time per article request", ray, "serve.ray.*.cpu_ms", "ms", 1, "<= 0.5"},
		{"server CPU time per article request", lz, "serve.large.*.cpu_ms", "ms", 1, "<= 0.5"},
		{"serve latency p50 (wrk)", ray, "serve.ray.*.lat50", "ms", 1, ""},
		{"serve latency p50 (wrk)", lz, "serve.large.*.lat50", "ms", 1, ""},
		{"serve latency p99 (wrk)", ray, "serve.ray.*.lat99", "ms", 1, ""},
		{"serve latency p99 (wrk)", lz, "serve.large.*.lat99", "ms", 1, ""},
		{"search latency p50, title queries", ray, "search.ray.*.p50_ms", "ms", 1, ""},
		{"search latency p50, title queries", lz, "search.large.*.p50_ms", "ms", 1, ""},
		{"search latency p99, title queries", ray, "search.ray.*.p99_ms", "ms", 1, "<= 0.75"},
		{"search latency p99, title queries", lz, "search.large.*.p99_ms", "ms", 1, "<= 0.75"},
		{"server CPU time per search, title queries", ray, "search.ray.*.cpu_ms", "ms", 1, "<= 1"},
		{"server CPU time per search, title queries", lz, "search.large.*.cpu_ms", "ms", 1, "<= 1"},
		{"queries answered, title queries", lz, "search.large.*.answered", "", 1, ""},
		{"search latency p50, KorQuAD questions", lz, "searchq.large.*.p50_ms", "ms", 1, ""},
		{"search latency p99, KorQuAD questions", lz, "searchq.large.*.p99_ms", "ms", 1, "<= 0.75"},
		{"search latency, slowest KorQuAD question", lz, "searchq.large.*.max_ms", "ms", 1, ""},
		{"server CPU time per search, KorQuAD questions", lz, "searchq.large.*.cpu_ms", "ms", 1, "<= 1"},
		{"search latency p50, KorQuAD questions", sz, "searchq.small.*.p50_ms", "ms", 1, ""},
		{"search latency p99, KorQuAD questions", sz, "searchq.small.*.p99_ms", "ms", 1, "<= 0.75"},
		{"server CPU time per search, KorQuAD questions", sz, "searchq.small.*.cpu_ms", "ms", 1, "<= 1"},
		{"queries answered, KorQuAD questions", lz, "searchq.large.*.answered", "", 1, ""},
		{"wrk socket errors/timeouts", ray, "serve.ray.*.socket_errors", "", 1, ""},
		{"wrk socket errors/timeouts", lz, "serve.large.*.socket_errors", "", 1, ""},
		{"server memory VmRSS after load", ray, "serve.ray.*.rss_kb", "MB", 1e-3, ""},
		{"server memory VmRSS after load", lz, "serve.large.*.rss_kb", "MB", 1e-3, ""},
		{"server memory VmHWM (peak)", ray, "serve.ray.*.hwm_kb", "MB", 1e-3, "<= 0.75"},
		{"server memory VmHWM (peak)", lz, "serve.large.*.hwm_kb", "MB", 1e-3, "<= 0.75"},
		{"server memory VmRSS after load", sz, "serve.small.*.rss_kb", "MB", 1e-3, ""},
		{"server memory VmHWM (peak)", sz, "serve.small.*.hwm_kb", "MB", 1e-3, "<= 0.75"},
		{"of VmRSS: private memory (RssAnon)", ray, "serve.ray.*.anon_kb", "MB", 1e-3, ""},
		{"of VmRSS: private memory (RssAnon)", sz, "serve.small.*.anon_kb", "MB", 1e-3, ""},
		{"of VmRSS: private memory (RssAnon)", lz, "serve.large.*.anon_kb", "MB", 1e-3, ""},
		{"of VmRSS: mapped program and library files (RssFile)", ray, "serve.ray.*.file_kb", "MB", 1e-3, ""},
		{"of VmRSS: mapped program and library files (RssFile)", sz, "serve.small.*.file_kb", "MB", 1e-3, ""},
		{"of VmRSS: mapped program and library files (RssFile)", lz, "serve.large.*.file_kb", "MB", 1e-3, ""},
		{"Korean top-1 hit rate", small, "quality.*.top1", "%", 100, ""},
		{"Korean top-3 hit rate", small, "quality.*.top3", "%", 100, ">= 1 and ferry >= 90%"},
	}
	var b strings.Builder
	b.WriteString("| measure | content | Kiwix | ferry | ferry ÷ Kiwix | goal | met |\n|---|---|---|---|---|---|---|\n")
	for _, w := range rows {
		kk, fk := w.keys()
		k, f := r.median(kk)*w.scale, r.median(fk)*w.scale
		if math.IsNaN(k) && math.IsNaN(f) {
			continue
		}
		ratio := f / k
		if k == 0 && f == 0 {
			ratio = 1
		}
		met := ""
		switch {
		case w.goal == "" || math.IsNaN(ratio):
		case strings.HasPrefix(w.goal, "<= "):
			g, _ := strconv.ParseFloat(strings.TrimPrefix(w.goal, "<= "), 64)
			met = yesNo(ratio <= g)
		case strings.HasPrefix(w.goal, ">= 1 and"):
			met = yesNo(ratio >= 1 && f >= 90)
		case strings.HasPrefix(w.goal, ">= "):
			g, _ := strconv.ParseFloat(strings.TrimPrefix(w.goal, ">= "), 64)
			met = yesNo(ratio >= g)
		}
		goal := strings.ReplaceAll(strings.ReplaceAll(w.goal, "<=", "≤"), ">=", "≥")
		fmt.Fprintf(&b, "| %s | %s | %s %s | %s %s | **%s** | %s | %s |\n", w.what, w.corpus, num(k), w.unit, num(f), w.unit, num(ratio), goal, met)
	}
	table := b.String()
	fmt.Print(table)
	if *doc == "" {
		return nil
	}
	var s strings.Builder
	s.WriteString(sectionHeading + " (issues 8 and 15)\n\n")
	fmt.Fprintf(&s, "Command: `%s` (`COPIES=%s` article copies for the larger corpus, %s repetitions, median shown; "+
		"wrk: %s threads, %s connections, %s s per run; %s search queries per run, %s questions for the hit rates).\n\n",
		r.text["meta.command"], r.text["meta.copies"], r.text["meta.reps"], r.text["meta.wrk_threads"],
		r.text["meta.wrk_conns"], r.text["meta.wrk_secs"], r.text["meta.search_n"], r.text["meta.quality_n"])
	fmt.Fprintf(&s, "Machine: %s. Versions: %s. Measured %s, load average at the end %s.\n\n", r.text["meta.machine"], r.text["meta.versions"], r.text["meta.date"], r.text["meta.load"])
	s.WriteString("What is measured: `zimwriterfs` (full-text index on, Xapian) against `ferry pack` on the same HTML folder " +
		"(`bench/kiwix` renders the KorQuAD dev set's 140 Korean Wikipedia articles as Wikipedia-like HTML; the larger corpus " +
		"adds copies of each article as variants under new titles, a quarter of each copy's paragraphs taken from other articles " +
		"and the rest rotated, once with the copies spread over the path order and once side by side), timed with `/usr/bin/time -v`. The real Wikipedia ZIM " +
		"(Ray Charles, English, mini) and the ZIM zimwriterfs made from the larger corpus are imported with `ferry pack X.zim`, then " +
		"served on 127.0.0.1 by `kiwix-serve` and `ferry serve` in turn: wrk fetches the same article URLs in shuffled order " +
		"(`bench/kiwix/rotate.lua`), search latency is one request at a time (send to last byte of the result page, 10 results " +
		"with snippets on both; the query's words joined with OR for kiwix-serve, whose default AND answers most questions " +
		"with nothing), memory is the server's VmRSS/VmHWM from `/proc/PID/status` after the load. Hit rates: the " +
		"KorQuAD questions against the ×1 corpus on each server's search page; a hit is the article whose paragraph holds the " +
		"answer among the first 1 or 3 ranked results.\n\n")
	s.WriteString(table)
	section := s.String()
	old, err := os.ReadFile(*doc)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(old) == 0 {
		old = []byte("# Benchmarks\n")
	}
	return os.WriteFile(*doc, []byte(replaceSection(string(old), section)), 0o644)
}

// replaceSection puts section in place of the existing one (keeping its
// hand-written "### Analysis" part) or appends it.
func replaceSection(doc, section string) string {
	start := strings.Index(doc, "\n"+sectionHeading)
	if start < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	start++
	end := len(doc)
	if i := regexp.MustCompile(`\n## `).FindStringIndex(doc[start+1:]); i != nil {
		end = start + 1 + i[0] + 1
	}
	old := doc[start:end]
	keep := ""
	if i := strings.Index(old, "\n"+keepHeading); i >= 0 {
		keep = "\n" + strings.TrimRight(old[i+1:], "\n") + "\n"
	}
	tail := doc[end:]
	if tail != "" {
		keep += "\n"
	}
	return doc[:start] + section + keep + tail
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func num(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "n/a"
	case math.Abs(x) >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case math.Abs(x) >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
}

// medianCmd parses wrk's output (stdin) into rps, lat50, lat99 (ms) and
// non2xx and socket_errors lines for the results.
func medianCmd(args []string) error {
	fs := flag.NewFlagSet("wrk", flag.ExitOnError)
	prefix := fs.String("prefix", "", "key prefix, e.g. serve.ray.ferry.")
	ticks := fs.Int64("cpu-ticks", -1, "server CPU time during the run, in clock ticks (/proc/PID/stat utime+stime)")
	fs.Parse(args)
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	text := string(in)
	get := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			return ""
		}
		return m[1]
	}
	rps := get(`Requests/sec:\s+([0-9.]+)`)
	if rps == "" {
		return fmt.Errorf("wrk output without Requests/sec:\n%s", text)
	}
	fmt.Printf("%srps %s\n", *prefix, rps)
	for _, p := range []string{"50", "99"} {
		v := get(`(?m)^\s+` + p + `%\s+([0-9.]+[a-z]+)`)
		d, err := wrkDuration(v)
		if err != nil {
			return fmt.Errorf("wrk %s%% latency %q: %w", p, v, err)
		}
		fmt.Printf("%slat%s %.3f\n", *prefix, p, d)
	}
	non2xx := 0
	if v := get(`Non-2xx or 3xx responses:\s+([0-9]+)`); v != "" {
		non2xx, _ = strconv.Atoi(v)
	}
	sockErr := 0
	if m := regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`).FindStringSubmatch(text); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.Atoi(v)
			sockErr += n
		}
	}
	// Socket errors (mostly wrk's 2 s timeouts on a loaded machine) are
	// reported; wrong answers (non-2xx) make the script stop.
	fmt.Printf("%snon2xx %d\n%ssocket_errors %d\n", *prefix, non2xx, *prefix, sockErr)
	if n, _ := strconv.Atoi(get(`(\d+) requests in`)); n > 0 && *ticks >= 0 {
		fmt.Printf("%scpu_ms %.4f\n", *prefix, float64(*ticks)*1000/clockTicks/float64(n))
	}
	return nil
}

// wrkDuration converts wrk's "1.23ms", "456.00us", "1.02s" to milliseconds.
func wrkDuration(s string) (float64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' })
	if i <= 0 {
		return 0, fmt.Errorf("no unit")
	}
	x, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, err
	}
	switch s[i:] {
	case "us":
		return x / 1000, nil
	case "ms":
		return x, nil
	case "s":
		return x * 1000, nil
	case "m":
		return x * 60000, nil
	}
	return 0, fmt.Errorf("unknown unit %q", s[i:])
}
