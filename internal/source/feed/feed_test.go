package feed

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"ferry/internal/source"
	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/shared"
)

var hrefRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// checkLinks: every link in every page stays local and leads to an entry.
func checkLinks(t *testing.T, w sourcetest.Walked) {
	t.Helper()
	for _, p := range w.Order {
		e := w.Entries[p]
		if !e.Article {
			continue
		}
		for _, m := range hrefRE.FindAllStringSubmatch(read(t, e), -1) {
			href := strings.ReplaceAll(m[1], "&amp;", "&")
			if strings.HasPrefix(href, "#") {
				continue
			}
			if strings.Contains(href, ":") {
				t.Errorf("%s: non-local link %q", p, href)
				continue
			}
			target := path.Join(path.Dir(p), unescape(href))
			if _, ok := w.Entries[target]; !ok {
				t.Errorf("%s: link %q → %q is not an entry", p, href, target)
			}
		}
	}
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			fmt.Sscanf(s[i+1:i+3], "%02X", &c)
			b.WriteByte(c)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// TestRealFiles runs the checks on other people's real feeds (the shared
// test data); TestCorpus covers the formats with our own feeds, and
// TestKoreanRSS runs on made-up bills when the real ones are missing.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): the real feed (gulp releases, Atom) and the National Assembly bills were not checked; our own feeds were")
	}
	t.Run("GulpAtom", realGulpAtom)
	t.Run("KoreanRSS", func(t *testing.T) { koreanRSS(t, readBills(t)) })
}

func realGulpAtom(t *testing.T) {
	f, err := Open(shared.Path(t, "feeds/gulp-releases.atom"))
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, f)
	if md := f.Metadata(); md.Title != "Release notes from gulp" || md.MainPage != IndexPage || md.Language != "en-US" {
		t.Errorf("metadata %+v", md)
	}
	idx := read(t, w.Entries[IndexPage])
	// Newest first: v3.9.0 (2015-06-01) before v3.8.11 (2015-02-09).
	i, j := strings.Index(idx, ">v3.9.0<"), strings.Index(idx, ">v3.8.11<")
	if i < 0 || j < 0 || i > j {
		t.Errorf("index order wrong:\n%s", idx)
	}
	p := "items/2015-06-01-v3-9-0.html"
	e, ok := w.Entries[p]
	if !ok {
		t.Fatalf("no %s in %v", p, w.Order)
	}
	page := read(t, e)
	for _, want := range []string{"<h1>v3.9.0</h1>", "<p>3.9.0</p>", "contra", "2015-06-01", "<span>https://github.com/gulpjs/gulp/releases/tag/v3.9.0</span>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `href="https://`) {
		t.Error("live external link in page")
	}
	checkLinks(t, w)
}

// bill is one National Assembly bill read from kolaw/kobill.
type bill struct {
	title, sponsor, reason string
	date                   time.Time
}

var (
	dateRE     = regexp.MustCompile(`(?:발의|제출)연월일\s*:\s*(\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})`)
	proposerRE = regexp.MustCompile(`제\s*출\s*자\s*:\s*(.+)`)
)

// read returns an entry's content as text.
func read(t testing.TB, e source.Entry) string { return string(sourcetest.Read(t, e)) }

// ownBills are made-up bills (our own text) in the shape of the real ones,
// for TestKoreanRSS in a plain clone.
func ownBills() []bill {
	kst := time.FixedZone("KST", 9*3600)
	return []bill{
		{"마을 우물 관리법 일부개정법률안", "김우물 의원 대표발의", "마을마다 우물이 있으나 관리하는 사람이 없어 물이 흐려지는 일이 잦다.\n이에 우물 관리인을 두도록 한다.", time.Date(2010, 3, 2, 9, 0, 0, 0, kst)},
		{"도서관 진흥법 일부개정법률안", "이책방 의원 대표발의", "작은 도서관이 책을 빌려 줄 때 드는 비용을 나라가 돕도록 한다.", time.Date(2010, 3, 5, 10, 0, 0, 0, kst)},
		{"농업기계 안전법안", "정부", "농기계 사고를 줄이기 위하여 안전 교육을 받도록 한다.", time.Date(2010, 2, 20, 11, 0, 0, 0, kst)},
	}
}

func readBills(t testing.TB) []bill {
	dir := shared.Path(t, "kolaw/kobill")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Skip("no bills")
	}
	sort.Strings(files)
	var bills []bill
	for k, fn := range files {
		data, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		lines := strings.Split(text, "\n")
		// The title runs to the first blank line.
		var title []string
		for _, l := range lines {
			if l = strings.TrimSpace(l); l == "" {
				break
			}
			title = append(title, l)
		}
		b := bill{title: strings.Join(title, " ")}
		for _, l := range lines[len(title):] {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "(") && strings.Contains(l, "대표발의") {
				b.sponsor = strings.Trim(l, "() ")
				break
			}
		}
		if b.sponsor == "" { // government bills: "제  출  자 :  정         부"
			if m := proposerRE.FindStringSubmatch(text); m != nil {
				b.sponsor = strings.Join(strings.Fields(m[1]), "")
			}
		}
		if m := dateRE.FindStringSubmatch(text); m != nil {
			var y, mo, d int
			fmt.Sscan(m[1], &y)
			fmt.Sscan(m[2], &mo)
			fmt.Sscan(m[3], &d)
			// Same-day bills get distinct hours so the order is defined.
			b.date = time.Date(y, time.Month(mo), d, 9+k, 0, 0, 0, time.FixedZone("KST", 9*3600))
		}
		_, rest, ok := strings.Cut(text, "제안이유")
		if !ok {
			t.Fatalf("%s: no 제안이유", fn)
		}
		if _, after, ok := strings.Cut(rest, "\n"); ok {
			rest = after
		}
		if cut := strings.Index(rest, "- 1 -"); cut > 0 {
			rest = rest[:cut]
		}
		b.reason = strings.TrimSpace(rest)
		bills = append(bills, b)
	}
	return bills
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// koreanFeed writes a realistic Korean RSS 2.0 feed of the National
// Assembly bills (title, sponsor, date, 제안이유 as description) into dir,
// with one bill's text as a local enclosure.
func koreanFeed(t testing.TB, dir string, bills []bill) (string, []bill) {
	// One bill has its full text attached as a local enclosure.
	if err := os.WriteFile(filepath.Join(dir, "의안 9890.txt"), []byte(bills[0].reason), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>국회 의안 소식</title><link>https://likms.assembly.go.kr/</link>
<description>제18대 국회 의안 (2010년)</description><language>ko</language>
`)
	for i, bl := range bills {
		fmt.Fprintf(&b, "<item><title>%s</title><link>https://likms.assembly.go.kr/bill/%d</link><author>%s</author><pubDate>%s</pubDate>\n",
			esc(bl.title), 1809890+i, esc(bl.sponsor), bl.date.Format(time.RFC1123Z))
		desc := bl.reason
		if i == 1 { // HTML description with hostile parts
			desc = "<p onclick=\"steal()\">" + bl.reason + "</p><script>alert(1)</script><iframe src=\"https://evil.example/\"></iframe><img src=\"https://tracker.example/p.gif\" alt=\"추적\"><a href=\"javascript:alert(1)\">링크</a>"
		}
		fmt.Fprintf(&b, "<description>%s</description>\n", esc(desc))
		if i == 0 {
			b.WriteString(`<enclosure url="https://likms.assembly.go.kr/files/%EC%9D%98%EC%95%88%209890.txt" length="100" type="text/plain"/>` + "\n")
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel></rss>\n")
	feedPath := filepath.Join(dir, "bills.xml")
	if err := os.WriteFile(feedPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return feedPath, bills
}

// TestKoreanRSS: a Korean RSS 2.0 feed with hostile markup and a local
// enclosure, made of our own bills (TestRealFiles runs it on the real
// National Assembly bills).
func TestKoreanRSS(t *testing.T) { koreanRSS(t, ownBills()) }

func koreanRSS(t *testing.T, bills []bill) {
	feedPath, bills := koreanFeed(t, t.TempDir(), bills)
	if ft, err := source.Detect(feedPath); err != nil || ft != source.FormatFeed {
		t.Errorf("Detect = %v, %v", ft, err)
	}
	f, err := Open(feedPath)
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, f)
	if md := f.Metadata(); md.Title != "국회 의안 소식" || md.Language != "ko" {
		t.Errorf("metadata %+v", md)
	}
	if len(w.Order) != 1+len(bills)+1 {
		t.Errorf("%d entries, want index + %d items + 1 enclosure: %v", len(w.Order), len(bills), w.Order)
	}
	// Every bill is an article with its Korean title and reason text.
	byTitle := map[string]source.Entry{}
	for _, e := range w.Entries {
		if strings.HasPrefix(e.Path, ItemDir) {
			byTitle[e.Title] = e
		}
	}
	for i, bl := range bills {
		e, ok := byTitle[bl.title]
		if !ok {
			t.Errorf("no article titled %q", bl.title)
			continue
		}
		page := read(t, e)
		firstLine := strings.TrimSpace(strings.SplitN(bl.reason, "\n", 2)[0])
		if !strings.Contains(page, esc(firstLine)) {
			t.Errorf("%s: reason text %q missing", e.Path, firstLine)
		}
		if !strings.Contains(page, bl.date.Format("2006-01-02")) || !strings.Contains(page, esc(bl.sponsor)) {
			t.Errorf("%s: date %s or sponsor %q missing", e.Path, bl.date, bl.sponsor)
		}
		if i == 1 {
			for _, bad := range []string{"<script", "onclick", "iframe", "tracker.example", "javascript:", "evil.example"} {
				if strings.Contains(page, bad) {
					t.Errorf("sanitizer left %q in:\n%s", bad, page)
				}
			}
			if !strings.Contains(page, "[추적]") || !strings.Contains(page, "링크") {
				t.Error("alt text or link text lost")
			}
		}
	}
	// Index: newest first.
	idx := read(t, w.Entries[IndexPage])
	sorted := append([]bill(nil), bills...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].date.After(sorted[j].date) })
	last := -1
	for _, bl := range sorted {
		k := strings.Index(idx, ">"+esc(bl.title)+"<")
		if k < 0 || k < last {
			t.Errorf("index order wrong at %q", bl.title)
		}
		last = k
	}
	// The enclosure is carried and linked.
	enc, ok := w.Entries["media/의안 9890.txt"]
	if !ok {
		t.Fatalf("enclosure missing: %v", w.Order)
	}
	if read(t, enc) != bills[0].reason || enc.MIME != "text/plain" {
		t.Errorf("enclosure content or MIME (%q) wrong", enc.MIME)
	}
	if !strings.Contains(read(t, byTitle[bills[0].title]), `href="../media/%EC%9D%98%EC%95%88%20`) {
		t.Error("enclosure not linked from its article")
	}
	checkLinks(t, w)
}

func TestBadFeeds(t *testing.T) {
	for _, in := range []string{"", "not xml", "<rss><channel><item><title>x", `{"version":"x"`, "<html><body>hi</body></html>"} {
		_, err := New(strings.NewReader(in), "")
		if err == nil {
			continue // gofeed is lenient with some truncations; no panic is the point
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err %v does not wrap ErrInvalid", in, err)
		}
	}
}

// TestHostileMarkupBudget: items made of markup the HTML parser handles
// in superlinear time (100,000 unclosed <p><b>) are reduced to text in
// linear time, keeping the text and dropping the script.
func TestHostileMarkupBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>t</title>`)
	body := esc(strings.Repeat("<p><b>", 100<<10) + "<script>x</script>끝")
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "<item><title>%d</title><description>%s</description></item>", i, body)
	}
	b.WriteString("</channel></rss>")
	f, err := New(strings.NewReader(b.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, f)
	for _, p := range w.Order {
		if page := read(t, w.Entries[p]); p != IndexPage && (!strings.Contains(page, "끝") || strings.Contains(page, "<script")) {
			t.Errorf("%s: text lost or script kept", p)
		}
	}
}

func TestSanitizeDeepNesting(t *testing.T) {
	in := strings.Repeat("<div><span>", 5000) + "깊다" + strings.Repeat("</span></div>", 5000)
	out := Sanitize(in, func(string) string { return "" })
	if !strings.Contains(out, "깊다") {
		t.Error("text lost")
	}
}

// FuzzFeed feeds our own feeds (every format and encoding, a few hundred
// bytes each) to the import. Work per input is bounded by the input's size
// (at most 64 KiB are fuzzed) and by the sanitizer's budgets.
func FuzzFeed(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.data())
	}
	f.Add([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>소식</title><item><title>제목</title><description>&lt;p onclick=x&gt;본문&lt;script&gt;x&lt;/script&gt;</description><pubDate>Fri, 12 Nov 2010 09:00:00 +0900</pubDate></item></channel></rss>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		fd, err := New(bytes.NewReader(b), "")
		if err != nil {
			return
		}
		w := sourcetest.Walk(t, fd)
		for _, e := range w.Entries {
			if e.Article && strings.Contains(strings.ToLower(read(t, e)), "<script") {
				t.Fatalf("%s: script survived", e.Path)
			}
		}
	})
}

// BenchmarkImportKoreanRSS measures import throughput (MB/s of feed XML)
// on the Korean bills feed.
func BenchmarkImportKoreanRSS(b *testing.B) {
	p, _ := koreanFeed(b, b.TempDir(), readBills(b))
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		f, err := New(bytes.NewReader(data), "")
		if err != nil {
			b.Fatal(err)
		}
		f.Walk(context.Background(), func(e source.Entry) error {
			rc, _ := e.Open()
			io.Copy(io.Discard, rc)
			return rc.Close()
		})
	}
}

// BenchmarkImportAtom measures feed import throughput (MB/s of feed XML).
func BenchmarkImportAtom(b *testing.B) {
	p := shared.Path(b, "feeds/gulp-releases.atom")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		f, err := New(bytes.NewReader(data), "")
		if err != nil {
			b.Fatal(err)
		}
		f.Walk(context.Background(), func(e source.Entry) error {
			rc, _ := e.Open()
			io.Copy(io.Discard, rc)
			return rc.Close()
		})
	}
}
