package static

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The static search index: the same tokenizer in Go (here) and in ES3
// JavaScript (searchJS), so queries typed in an old browser produce the
// terms the index holds. See docs/static.md.

const docsPerChunk = 1000

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
	for _, u := range utf16Units(term) {
		h = (h*31 + int(u)) % 1000003
	}
	return h % shards
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		out = append(out, uint16(r))
	}
	return out
}

type searchIndex struct {
	post map[string][]int // doc*2 + 1 if the term is in the title
}

func (s *searchIndex) add(doc int, title, text string) {
	if s.post == nil {
		s.post = map[string][]int{}
	}
	seen := map[string]int{}
	tokens(text, func(t string) { seen[t] |= 0 })
	tokens(title, func(t string) { seen[t] = 1 })
	for t, inTitle := range seen {
		s.post[t] = append(s.post[t], doc*2+inTitle)
	}
}

func (s *searchIndex) write(x *exporter, slug string, docs []doc) error {
	n := len(docs)
	shards := min(max(n/50, 1), 256)
	parts := make([]map[string][]int, shards)
	for i := range parts {
		parts[i] = map[string][]int{}
	}
	for t, p := range s.post {
		sort.Ints(p)
		parts[shardOf(t, shards)][t] = p
	}
	for i, part := range parts {
		b, err := json.Marshal(part)
		if err != nil {
			return err
		}
		if err := x.write(fmt.Sprintf("%s/search/s%d.js", slug, i), []byte(fmt.Sprintf("ferrySearch.shard(%d,%s);\n", i, b))); err != nil {
			return err
		}
	}
	for c := 0; c*docsPerChunk < n; c++ {
		var rows [][2]string
		for _, d := range docs[c*docsPerChunk : min(n, (c+1)*docsPerChunk)] {
			rows = append(rows, [2]string{d.title, relURL("search.html", d.file)})
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		if err := x.write(fmt.Sprintf("%s/search/d%d.js", slug, c), []byte(fmt.Sprintf("ferrySearch.docs(%d,%s);\n", c, b))); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf("var ferrySearchConfig = {shards: %d, docs: %d, chunk: %d};\n", shards, n, docsPerChunk)
	if err := x.write(slug+"/search/search.js", []byte(cfg+searchJS)); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(head("검색 / Search", "../ferry.css"))
	b.WriteString("<p><a href=\"index.html\">&larr; 차례 / Contents</a></p>\n<h1>검색 / Search</h1>\n")
	b.WriteString("<form id=\"f\" action=\"search.html\" onsubmit=\"return ferrySearch.run();\"><p><input type=\"text\" id=\"q\" name=\"q\" size=\"24\" autocomplete=\"off\"> <input type=\"submit\" value=\"검색 / Search\"></p></form>\n")
	b.WriteString("<noscript><p class=\"note\">검색에는 JavaScript가 필요합니다. 제목 차례를 쓰십시오. / Search needs JavaScript; use the title index instead.</p></noscript>\n")
	b.WriteString("<p id=\"status\" class=\"note\"></p>\n<ol id=\"results\"></ol>\n")
	b.WriteString("<script type=\"text/javascript\" src=\"search/search.js\"></script>\n</body></html>\n")
	return x.write(slug+"/search.html", b.Bytes())
}

// searchJS is ES3: no JSON, no forEach/indexOf/trim, no fetch; index files
// are scripts loaded by inserting <script> elements, which works from file://.
const searchJS = `var ferrySearch = (function () {
  var cfg = ferrySearchConfig, shards = {}, docs = {}, pending = 0, queue = [];
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
  function load(src, done) {
    var s = document.createElement('script'), fired = false;
    s.type = 'text/javascript';
    s.onload = s.onreadystatechange = function () {
      if (!fired && (!this.readyState || this.readyState == 'loaded' || this.readyState == 'complete')) { fired = true; done(); }
    };
    s.onerror = function () { if (!fired) { fired = true; done(); } }; // a missing shard: search what loaded
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
  function run() {
    var q = el('q').value, terms = tokens(q), need = [], seen = {}, i, s;
    el('results').innerHTML = '';
    if (terms.length === 0) { return false; }
    el('status').innerHTML = '';
    text(el('status'), '\uAC80\uC0C9 \uC911... / Searching...');
    for (i = 0; i < terms.length; i++) {
      s = shardOf(terms[i]);
      if (!shards[s] && !seen[s]) { seen[s] = true; need.push('search/s' + s + '.js'); }
    }
    loadAll(need, function () { rank(terms); });
    return false;
  }
  function rank(terms) {
    var score = {}, list = [], uniq = {}, i, t, p, k, d, idf, chunks = {}, need = [];
    for (i = 0; i < terms.length; i++) {
      t = terms[i];
      if (uniq.hasOwnProperty(t)) { continue; }
      uniq[t] = true;
      p = shards[shardOf(t)];
      p = p && p.hasOwnProperty(t) ? p[t] : null; // not Object's own names ("constructor")
      if (!p || typeof p.length !== 'number') { continue; }
      idf = Math.log(1 + cfg.docs / p.length);
      for (k = 0; k < p.length; k++) {
        d = Math.floor(p[k] / 2);
        score[d] = (score[d] || 0) + idf * (p[k] % 2 === 1 ? 3 : 1);
      }
    }
    for (d in score) { if (score.hasOwnProperty(d)) { list.push([score[d], +d]); } }
    list.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    list = list.slice(0, 30);
    for (i = 0; i < list.length; i++) {
      k = Math.floor(list[i][1] / cfg.chunk);
      if (!docs[k] && !chunks[k]) { chunks[k] = true; need.push('search/d' + k + '.js'); }
    }
    loadAll(need, function () { show(list); });
  }
  function show(list) {
    var ol = el('results'), i, row, li, a;
    el('status').innerHTML = '';
    text(el('status'), list.length === 0 ? '\uCC3E\uC740 \uAC83\uC774 \uC5C6\uC2B5\uB2C8\uB2E4 / Nothing found' : list.length + ' \uAC74 / results');
    for (i = 0; i < list.length; i++) {
      row = docs[Math.floor(list[i][1] / cfg.chunk)][list[i][1] % cfg.chunk];
      li = document.createElement('li');
      a = document.createElement('a');
      a.href = row[1];
      text(a, row[0]);
      li.appendChild(a);
      ol.appendChild(li);
    }
  }
  return {
    run: run,
    tokens: tokens,
    shard: function (n, data) { shards[n] = data; },
    docs: function (n, rows) { docs[n] = rows; }
  };
}());
`
