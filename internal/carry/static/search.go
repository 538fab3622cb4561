package static

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The static search index: the same tokenizer in Go (here) and in ES5
// JavaScript (searchJS), so queries typed in an old browser produce the
// terms the index holds. The index is written as script files that
// search.html loads with <script> elements, the one way to load data from
// file:// in every browser (fetch and XMLHttpRequest are refused there).
// It is built in bounded memory: postings go to temporary bucket files
// while pages are written, and each bucket, a fixed share of the shards,
// is sorted and written out on its own at the end. See docs/static.md.

const (
	// docsPerChunk documents per d/ file: a result page loads one chunk
	// per result at most, so chunks are small.
	docsPerChunk = 100
	// docsPerShard sets the number of shards: about this many documents'
	// worth of terms in each s/ file.
	docsPerShard = 40
	// maxPostings is the most documents kept for one term: those with the
	// term in their title first, then those using it most. A term in more
	// documents than that says little about any one of them.
	maxPostings = 800
	// filesPerFolder of the index: shard and chunk files go in numbered
	// folders of this many.
	filesPerFolder = 1000
	// snippetRunes is the length of the lead text shown under a result.
	snippetRunes = 160
)

// charClass classifies a UTF-16 code unit as the JavaScript side sees it.
func charClass(r rune) int {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return clsWord
	case r >= 0xAC00 && r <= 0xD7A3:
		return clsHangul
	case r >= 0x3040 && r <= 0x30FF, r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF:
		return clsCJK
	case r > 0x7f && r < 0xD800 && strings.ToLower(string(r)) != strings.ToUpper(string(r)):
		return clsWord
	}
	return clsNone
}

const (
	clsNone = iota
	clsWord
	clsHangul
	clsCJK
)

// tokens splits text into index terms: lower-cased words of two or more
// letters (or any number), and Hangul/CJK runs as overlapping pairs of
// characters (a run of one as itself).
func tokens(text string, emit func(string)) {
	rs := []rune(lowerJS(text))
	for i := 0; i < len(rs); {
		c := charClass(rs[i])
		if c == clsNone {
			i++
			continue
		}
		j := i
		for j < len(rs) && charClass(rs[j]) == c {
			j++
		}
		run := rs[i:j]
		switch c {
		case clsWord:
			if len(run) >= 2 || run[0] >= '0' && run[0] <= '9' {
				emit(string(run))
			}
		default:
			if len(run) == 1 {
				emit(string(run))
			}
			for k := 0; k+1 < len(run); k++ {
				emit(string(run[k : k+2]))
			}
		}
		i = j
	}
}

// lowerJS lower-cases like String.prototype.toLowerCase for the BMP.
func lowerJS(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return ' '
		}
		return []rune(strings.ToLower(string(r)))[0]
	}, s)
}

// shardOf hashes a term the way searchJS does.
func shardOf(term string, shards int) int {
	h := 0
	for _, r := range term {
		h = (h*31 + int(uint16(r))) % 1000003
	}
	return h % shards
}

// numbered is the path of file n of an index part: "s/3/3012.js".
func numbered(kind string, n int) string {
	return fmt.Sprintf("%s/%d/%d.js", kind, n/filesPerFolder, n)
}

// indexWriter builds one archive's search index while its pages are
// written.
type indexWriter struct {
	x       *exporter
	slug    string
	lang    string
	tmp     string
	shards  int
	buckets []*bufio.Writer
	files   []*os.File
	docs    int
	chunk   [][3]string
	tf      map[string]int // reused per document
	err     error
}

func newIndexWriter(x *exporter, slug, lang string, articles int) (*indexWriter, error) {
	shards := min(max(articles/docsPerShard, 1), 1<<20)
	nb := min(max(shards/64, 1), 256)
	tmp, err := os.MkdirTemp(x.tmp, "index-")
	if err != nil {
		return nil, err
	}
	w := &indexWriter{x: x, slug: slug, lang: lang, tmp: tmp, shards: shards, tf: map[string]int{}}
	for i := 0; i < nb; i++ {
		f, err := os.Create(filepath.Join(tmp, fmt.Sprintf("b%d", i)))
		if err != nil {
			w.close()
			return nil, err
		}
		w.files = append(w.files, f)
		w.buckets = append(w.buckets, bufio.NewWriterSize(f, 32<<10))
	}
	return w, nil
}

func (w *indexWriter) close() {
	for _, f := range w.files {
		f.Close()
	}
	os.RemoveAll(w.tmp)
}

// add indexes one article.
func (w *indexWriter) add(title, text, href string) {
	doc := w.docs
	w.docs++
	clear(w.tf)
	tokens(text, func(t string) { w.tf[t] += 2 })
	tokens(title, func(t string) { w.tf[t] |= 1 })
	var rec []byte
	for t, v := range w.tf {
		tf := min(v>>1, 127)
		weight := byte(tf<<1 | v&1)
		rec = binary.AppendUvarint(rec[:0], uint64(len(t)))
		rec = append(rec, t...)
		rec = binary.AppendUvarint(rec, uint64(doc))
		rec = append(rec, weight)
		b := shardOf(t, w.shards) * len(w.buckets) / w.shards
		if _, err := w.buckets[b].Write(rec); err != nil && w.err == nil {
			w.err = err
		}
	}
	w.chunk = append(w.chunk, [3]string{title, href, lead(text, title)})
	if len(w.chunk) == docsPerChunk {
		w.flushChunk()
	}
}

// lead is the start of an article's text, after its title, cut at a
// word: the snippet a result shows.
func lead(text, title string) string {
	text = strings.Join(strings.Fields(text), " ")
	text = strings.TrimSpace(strings.TrimPrefix(text, strings.Join(strings.Fields(title), " ")))
	r := []rune(text)
	if len(r) <= snippetRunes {
		return text
	}
	cut := snippetRunes
	for i := snippetRunes; i > snippetRunes*2/3; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return string(r[:cut]) + "…"
}

func (w *indexWriter) flushChunk() {
	if len(w.chunk) == 0 {
		return
	}
	k := (w.docs - 1) / docsPerChunk
	b, err := json.Marshal(w.chunk)
	if err == nil {
		err = w.x.write(w.slug+"/search/"+numbered("d", k), []byte(fmt.Sprintf("ferrySearch.docs(%d,%s);\n", k, jsSafe(b))))
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	w.chunk = w.chunk[:0]
}

// jsSafe makes JSON safe inside a script file read by any browser:
// U+2028 and U+2029 end lines in old JavaScript.
func jsSafe(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\u2028"), []byte(`\u2028`))
	return bytes.ReplaceAll(b, []byte("\u2029"), []byte(`\u2029`))
}

type posting struct {
	doc    uint32
	weight byte
}

// finish writes the shards, the last chunk and the script, then removes
// the temporary files.
func (w *indexWriter) finish() error {
	defer w.close()
	w.flushChunk()
	if w.err != nil {
		return w.err
	}
	for i, bw := range w.buckets {
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := w.bucket(w.files[i]); err != nil {
			return err
		}
		w.files[i].Close()
		os.Remove(w.files[i].Name())
	}
	cfg := fmt.Sprintf("var ferrySearchConfig = {shards: %d, docs: %d, chunk: %d, perFolder: %d};\n", w.shards, w.docs, docsPerChunk, filesPerFolder)
	return w.x.write(w.slug+"/search/search.js", []byte(cfg+searchWords(w.lang)+searchJS))
}

// bucket reads one bucket's postings and writes its shards.
func (w *indexWriter) bucket(f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	byShard := map[int]map[string][]posting{}
	for {
		n, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		if err != nil || n > 1<<16 {
			return fmt.Errorf("static: reading the search index's temporary file: %v", err)
		}
		term := make([]byte, n)
		if _, err := io.ReadFull(r, term); err != nil {
			return err
		}
		doc, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		wt, err := r.ReadByte()
		if err != nil {
			return err
		}
		t := string(term)
		s := shardOf(t, w.shards)
		m := byShard[s]
		if m == nil {
			m = map[string][]posting{}
			byShard[s] = m
		}
		m[t] = append(m[t], posting{uint32(doc), wt})
	}
	shards := make([]int, 0, len(byShard))
	for s := range byShard {
		shards = append(shards, s)
	}
	sort.Ints(shards)
	for _, s := range shards {
		terms := byShard[s]
		var b bytes.Buffer
		fmt.Fprintf(&b, "ferrySearch.shard(%d,{", s)
		names := make([]string, 0, len(terms))
		for t := range terms {
			names = append(names, t)
		}
		sort.Strings(names)
		for i, t := range names {
			ps := terms[t]
			df := len(ps)
			if len(ps) > maxPostings {
				// Title first, then the most uses, then the first documents.
				sort.Slice(ps, func(i, j int) bool {
					if ps[i].weight&1 != ps[j].weight&1 {
						return ps[i].weight&1 > ps[j].weight&1
					}
					if ps[i].weight != ps[j].weight {
						return ps[i].weight > ps[j].weight
					}
					return ps[i].doc < ps[j].doc
				})
				ps = ps[:maxPostings]
				sort.Slice(ps, func(i, j int) bool { return ps[i].doc < ps[j].doc })
			}
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(t)
			b.Write(jsSafe(q))
			fmt.Fprintf(&b, ":[%d", df)
			for _, p := range ps {
				fmt.Fprintf(&b, ",%d", int(p.doc)*2+int(p.weight&1))
			}
			b.WriteByte(']')
		}
		b.WriteString("});\n")
		if err := w.x.write(w.slug+"/search/"+numbered("s", s), b.Bytes()); err != nil {
			return err
		}
		delete(byShard, s)
	}
	return nil
}

// fnv64 is FNV-1a of s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// searchJS is ES5 (checked by TestES5 with a parser): no JSON object,
// forEach, indexOf, trim, fetch or modules are needed; index files are
// scripts loaded by inserting <script> elements, which works from
// file://. Results show the title, the lead text with the query's words
// marked, and each page once.
const searchJS = `var ferrySearch = (function () {
  var cfg = ferrySearchConfig, shards = {}, docs = {}, L = ferrySearchWords;
  function charClass(c) {
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) { return 1; }
    if (c >= 0xAC00 && c <= 0xD7A3) { return 2; }
    if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF)) { return 3; }
    if (c > 0x7f && c < 0xD800) { var s = String.fromCharCode(c); if (s.toLowerCase() != s.toUpperCase()) { return 1; } }
    return 0;
  }
  function tokens(text) {
    var out = [], t = text.toLowerCase(), i = 0, j, c, run, k;
    while (i < t.length) {
      c = charClass(t.charCodeAt(i));
      if (c === 0) { i++; continue; }
      j = i;
      while (j < t.length && charClass(t.charCodeAt(j)) === c) { j++; }
      run = t.substring(i, j);
      if (c === 1) {
        if (run.length >= 2 || (run.charCodeAt(0) >= 48 && run.charCodeAt(0) <= 57)) { out.push(run); }
      } else {
        if (run.length === 1) { out.push(run); }
        for (k = 0; k + 1 < run.length; k++) { out.push(run.substring(k, k + 2)); }
      }
      i = j;
    }
    return out;
  }
  function shardOf(term) {
    var h = 0, i;
    for (i = 0; i < term.length; i++) { h = (h * 31 + term.charCodeAt(i)) % 1000003; }
    return h % cfg.shards;
  }
  function file(kind, n) { return 'search/' + kind + '/' + Math.floor(n / cfg.perFolder) + '/' + n + '.js'; }
  function load(src, done) {
    var s = document.createElement('script'), fired = false;
    s.type = 'text/javascript';
    s.onload = s.onreadystatechange = function () {
      if (!fired && (!this.readyState || this.readyState == 'loaded' || this.readyState == 'complete')) { fired = true; done(); }
    };
    s.onerror = function () { if (!fired) { fired = true; done(); } }; // a missing file: search what loaded
    s.src = src;
    document.getElementsByTagName('head')[0].appendChild(s);
  }
  function loadAll(srcs, done) {
    var left = srcs.length, i;
    if (left === 0) { done(); return; }
    for (i = 0; i < srcs.length; i++) { load(srcs[i], function () { left--; if (left === 0) { done(); } }); }
  }
  function el(id) { return document.getElementById(id); }
  function text(node, s) { node.appendChild(document.createTextNode(s)); }
  function status(s) { var st = el('status'); st.innerHTML = ''; text(st, s); }
  var current = 0;
  function run() {
    var q = el('q').value, terms = tokens(q), need = [], seen = {}, i, s, my;
    el('results').innerHTML = '';
    if (terms.length === 0) { return false; }
    current++;
    my = current;
    status(L.searching);
    for (i = 0; i < terms.length; i++) {
      s = shardOf(terms[i]);
      if (!shards.hasOwnProperty(s) && !seen[s]) { seen[s] = true; need.push(file('s', s)); }
    }
    loadAll(need, function () { if (my === current) { rank(q, terms, my); } });
    return false;
  }
  function rank(q, terms, my) {
    var score = {}, list = [], uniq = {}, i, t, p, k, d, idf, chunks = {}, need = [];
    for (i = 0; i < terms.length; i++) {
      t = terms[i];
      if (uniq.hasOwnProperty(t)) { continue; }
      uniq[t] = true;
      p = shards[shardOf(t)];
      p = p && p.hasOwnProperty(t) ? p[t] : null; // not Object's own names ("constructor")
      if (!p || typeof p.length !== 'number' || p.length < 1) { continue; }
      idf = Math.log(1 + cfg.docs / p[0]);
      for (k = 1; k < p.length; k++) {
        d = Math.floor(p[k] / 2);
        score[d] = (score[d] || 0) + idf * (p[k] % 2 === 1 ? 3 : 1);
      }
    }
    for (d in score) { if (score.hasOwnProperty(d)) { list.push([score[d], +d]); } }
    list.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    list = list.slice(0, 30);
    for (i = 0; i < list.length; i++) {
      k = Math.floor(list[i][1] / cfg.chunk);
      if (!docs.hasOwnProperty(k) && !chunks[k]) { chunks[k] = true; need.push(file('d', k)); }
    }
    loadAll(need, function () { if (my === current) { show(q, list); } });
  }
  // mark writes s into node with the query's words in <mark>.
  function mark(node, s, q) {
    var words = q.toLowerCase().split(/\s+/), low = s.toLowerCase(), i = 0, j, w, best, bestLen, m;
    while (i < s.length) {
      best = -1; bestLen = 0;
      for (j = 0; j < words.length; j++) {
        w = words[j];
        if (w.length < 2) { continue; }
        var at = low.indexOf(w, i);
        if (at >= 0 && (best < 0 || at < best)) { best = at; bestLen = w.length; }
      }
      if (best < 0) { text(node, s.substring(i)); return; }
      text(node, s.substring(i, best));
      m = document.createElement('mark');
      text(m, s.substring(best, best + bestLen));
      node.appendChild(m);
      i = best + bestLen;
    }
  }
  function show(q, list) {
    var ol = el('results'), i, row, li, a, p, shown = {}, n = 0;
    for (i = 0; i < list.length; i++) {
      row = docs[Math.floor(list[i][1] / cfg.chunk)];
      row = row && row[list[i][1] % cfg.chunk];
      if (!row || shown[row[1]]) { continue; }
      shown[row[1]] = true;
      n++;
      li = document.createElement('li');
      a = document.createElement('a');
      a.href = row[1];
      text(a, row[0]);
      li.appendChild(a);
      if (row[2]) {
        p = document.createElement('p');
        p.className = 'snip';
        mark(p, row[2], q);
        li.appendChild(p);
      }
      ol.appendChild(li);
    }
    status(n === 0 ? L.nothing : L.found.replace('%d', n));
  }
  function fromAddress() {
    var m = /[?&]q=([^&#]*)/.exec(location.search || '');
    if (!m) { return; }
    try { el('q').value = decodeURIComponent(m[1].replace(/\+/g, ' ')); } catch (e) { return; }
    run();
  }
  return {
    run: run,
    tokens: tokens,
    start: fromAddress,
    shard: function (n, data) { shards[n] = data; },
    docs: function (n, rows) { docs[n] = rows; }
  };
}());
`
