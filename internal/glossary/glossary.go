package glossary

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed glossary.tsv
var embedded []byte

// Kind says what sort of word a headword is.
type Kind uint8

// The kinds of entry, with their codes in the data file.
const (
	English      Kind = iota + 1 // "en": loanword from English (스마트폰)
	Foreign                      // "loan": loanword from another language (아르바이트, from German)
	Konglish                     // "konglish": made in Korea from English parts, or used in a sense English lacks (핸드폰, 아이쇼핑)
	Southern                     // "sk": a South-Korea-specific term or institution (수능, 전세)
	Abbreviation                 // "abbr": a clipped or initial form (알바, GDP, 국정원)
)

var kindCodes = [...]string{English: "en", Foreign: "loan", Konglish: "konglish", Southern: "sk", Abbreviation: "abbr"}

// String returns the kind's code in the data file.
func (k Kind) String() string {
	if int(k) < len(kindCodes) && kindCodes[k] != "" {
		return kindCodes[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// loan reports whether the kind is a borrowed or borrowed-looking word,
// the kinds that may be found in the middle of a compound (see match.go).
func (k Kind) loan() bool { return k == English || k == Foreign || k == Konglish }

// Confidence says how sure the glossary is of an entry's North Korean word.
type Confidence uint8

// Confidence levels, with their codes in the data file.
const (
	NoNK      Confidence = iota // no North Korean word given
	Common                      // "c": the ordinary North Korean word, widely used
	Attested                    // "a": found in North Korean use or dictionaries, less common
	Uncertain                   // "u": reported but rare, disputed, or not checked
)

var confCodes = [...]string{NoNK: "", Common: "c", Attested: "a", Uncertain: "u"}

// String returns the confidence's code in the data file ("" for NoNK).
func (c Confidence) String() string {
	if int(c) < len(confCodes) {
		return confCodes[c]
	}
	return fmt.Sprintf("Confidence(%d)", c)
}

// Domains are the subject codes an entry may have (docs/glossary.md).
var Domains = []string{"it", "econ", "pol", "cult", "sport", "food", "med", "sci", "life", "edu", "gen"}

// Entry is one glossary entry.
type Entry struct {
	Headword    string     // the South Korean word as written (Hangul, or Latin letters for abbreviations like GDP)
	Kind        Kind       // what sort of word it is
	Domain      string     // subject, one of Domains
	Origin      string     // the source word ("smartphone", "de:Arbeit") or the full form of an abbreviation; may be empty for Southern
	Explanation string     // plain Korean, without loanwords
	NK          string     // the North Korean word, if one is attested; the headword itself when North Korea uses the same word
	NKConf      Confidence // how sure NK is
}

// Glossary is a parsed glossary with its matcher. It is safe for
// concurrent use.
type Glossary struct {
	entries []Entry
	index   map[string]int
	words   trie // headwords → entry index
	// midStart[slot] says a headword that may start inside a compound
	// (see longest) begins with the root rune of slot: run skips the
	// trie for other runes there.
	midStart []bool
	class    []uint8 // clsLatin… of each root rune, see match.go
	// needNext: entries taken only before one of the listed syllables
	// (see needsNext in tails.go).
	needNext map[int32]string

	countPool sync.Pool // []uint16 per-entry counters for FindMarks
	firstPool sync.Pool // []uint16 per-entry list numbers for AppendMarked

	fpOnce sync.Once
	fp     uint64 // Fingerprint

	renderOnce sync.Once
	rend       []renderedEntry // see rendered
	// titles holds the rendered titles end to end (as heads does the
	// headwords): entry i's is titles[titleAt[i]:titleAt[i+1]].
	titles  []byte
	titleAt []uint32

	probeOnce sync.Once
	probe     []uint8 // see probes
	// heads holds every headword's bytes end to end, entry i's at
	// heads[headAt[i]:headAt[i+1]]: a record's marks are found reading a
	// few kilobytes that stay in the cache, not the entries.
	heads  []byte
	headAt []uint32
}

// Header is the column line the data file must start with (after comments).
const Header = "headword\tkind\tdomain\torigin\texplanation\tnk\tnk_conf"

// ErrFormat is wrapped by every error Parse returns about the data.
var ErrFormat = errors.New("glossary: bad data")

// Limits on one entry, to keep pages small and the matcher's tables bounded.
const (
	maxHeadword    = 24  // runes
	maxExplanation = 200 // runes
	maxField       = 700 // bytes, any field
)

// Parse reads a glossary in the format of docs/glossary.md: '#' comment
// lines, the Header line, then one tab-separated entry per line. Errors
// name the line and wrap ErrFormat.
func Parse(r io.Reader) (*Glossary, error) {
	g := &Glossary{index: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	line, header := 0, false
	for sc.Scan() {
		line++
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !header {
			if s != Header {
				return nil, fmt.Errorf("line %d: want the column line %q first: %w", line, Header, ErrFormat)
			}
			header = true
			continue
		}
		e, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v: %w", line, err, ErrFormat)
		}
		if j, dup := g.index[e.Headword]; dup {
			return nil, fmt.Errorf("line %d: headword %q already defined (entry %d): %w", line, e.Headword, j+1, ErrFormat)
		}
		g.index[e.Headword] = len(g.entries)
		g.entries = append(g.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v: %w", line+1, err, ErrFormat)
	}
	if !header {
		return nil, fmt.Errorf("no column line %q: %w", Header, ErrFormat)
	}
	g.words = newTrie()
	for i, e := range g.entries {
		g.words.add(e.Headword, int32(i))
	}
	g.words.freeze()
	g.midStart = make([]bool, len(g.words.root))
	for _, e := range g.entries {
		rs := []rune(e.Headword)
		if !e.Kind.loan() {
			continue
		}
		if slot := rootSlot(rs[0]); slot >= 0 {
			g.midStart[slot] = true
		}
	}
	g.class = classes(g)
	for i, e := range g.entries {
		if next, ok := needsNext[e.Headword]; ok {
			if g.needNext == nil {
				g.needNext = map[int32]string{}
			}
			g.needNext[int32(i)] = next
		}
	}
	return g, nil
}

func parseEntry(s string) (Entry, error) {
	if !utf8.ValidString(s) {
		return Entry{}, errors.New("not UTF-8")
	}
	f := strings.Split(s, "\t")
	if len(f) != 7 {
		return Entry{}, fmt.Errorf("%d fields, want 7", len(f))
	}
	for i, v := range f {
		if v != strings.TrimSpace(v) {
			return Entry{}, fmt.Errorf("field %d has spaces at an end", i+1)
		}
		if len(v) > maxField {
			return Entry{}, fmt.Errorf("field %d longer than %d bytes", i+1, maxField)
		}
	}
	e := Entry{Headword: f[0], Domain: f[2], Origin: f[3], Explanation: f[4], NK: f[5]}
	if err := checkHeadword(e.Headword); err != nil {
		return e, err
	}
	switch f[1] {
	case "en":
		e.Kind = English
	case "loan":
		e.Kind = Foreign
	case "konglish":
		e.Kind = Konglish
	case "sk":
		e.Kind = Southern
	case "abbr":
		e.Kind = Abbreviation
	default:
		return e, fmt.Errorf("kind %q is not one of en, loan, konglish, sk, abbr", f[1])
	}
	if !validDomain(e.Domain) {
		return e, fmt.Errorf("domain %q is not one of %s", e.Domain, strings.Join(Domains, ", "))
	}
	if e.Origin == "" && e.Kind != Southern {
		return e, fmt.Errorf("kind %s needs an origin", e.Kind)
	}
	if e.Kind == Foreign {
		if i := strings.IndexByte(e.Origin, ':'); i < 2 || i > 3 {
			return e, fmt.Errorf("origin %q of a foreign loanword must start with a language code (\"de:Arbeit\")", e.Origin)
		}
	}
	if e.Explanation == "" {
		return e, errors.New("empty explanation")
	}
	if n := utf8.RuneCountInString(e.Explanation); n > maxExplanation {
		return e, fmt.Errorf("explanation has %d characters, at most %d", n, maxExplanation)
	}
	if strings.ContainsAny(e.Explanation+e.NK+e.Origin, "<>\"") {
		return e, errors.New("< > or \" in a field")
	}
	switch f[6] {
	case "":
		e.NKConf = NoNK
	case "c":
		e.NKConf = Common
	case "a":
		e.NKConf = Attested
	case "u":
		e.NKConf = Uncertain
	default:
		return e, fmt.Errorf("nk_conf %q is not one of c, a, u or empty", f[6])
	}
	if (e.NK == "") != (e.NKConf == NoNK) {
		return e, errors.New("nk and nk_conf must both be given or both be empty")
	}

	return e, nil
}

// checkHeadword allows what the matcher can find: Hangul syllables, ASCII
// letters and digits, no spaces.
func checkHeadword(h string) error {
	if h == "" {
		return errors.New("empty headword")
	}
	n := 0
	for _, r := range h {
		n++
		if !isHangul(r) && !isLatin(r) {
			return fmt.Errorf("headword %q has %q: only Hangul syllables, ASCII letters and digits", h, r)
		}
	}
	if n > maxHeadword {
		return fmt.Errorf("headword %q longer than %d characters", h, maxHeadword)
	}
	return nil
}

func validDomain(d string) bool {
	for _, x := range Domains {
		if d == x {
			return true
		}
	}
	return false
}

var (
	defOnce sync.Once
	def     *Glossary
)

// Default returns the glossary embedded in ferry, parsed on first use.
func Default() *Glossary {
	defOnce.Do(func() {
		g, err := Parse(bytes.NewReader(embedded))
		if err != nil {
			// The data is checked by TestData; a broken embed is a build error.
			panic("glossary: internal error: embedded data: " + err.Error())
		}
		def = g
	})
	return def
}

// SameInNorth reports whether North Korea uses the same word (the entry
// is glossed for readers who still may not know it, and its headword may
// appear in other entries' explanations).
func (e *Entry) SameInNorth() bool { return e.NK == e.Headword }

// Len returns the number of entries.
func (g *Glossary) Len() int { return len(g.entries) }

// Entry returns entry i, 0 ≤ i < Len(), in the order of the data file.
func (g *Glossary) Entry(i int) Entry { return g.entries[i] }

// Lookup returns the entry of a headword, written exactly as in the data.
func (g *Glossary) Lookup(headword string) (Entry, bool) {
	i, ok := g.index[headword]
	if !ok {
		return Entry{}, false
	}
	return g.entries[i], true
}
