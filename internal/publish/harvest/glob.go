package harvest

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// glob matches URL paths (decoded, so "/뉴스/**" works): '*' is any run of
// characters within a path segment, '**' any run across segments, '?' one
// character other than '/', and [...] a class as in path.Match. A pattern
// that does not start with '/' matches at any depth: "*.pdf" is "/**/*.pdf".
type glob struct{ re *regexp.Regexp }

func compileGlob(p string) (*glob, error) {
	if p == "" {
		return nil, errors.New("empty pattern")
	}
	if !strings.HasPrefix(p, "/") {
		p = "/**/" + strings.TrimPrefix(p, "**/")
	}
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					// "**/" also matches no folder at all.
					i++
					sb.WriteString("(?:.*/)?")
				} else {
					sb.WriteString(".*")
				}
			} else {
				sb.WriteString("[^/]*")
			}
		case '?':
			sb.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(p[i+1:], ']')
			if j < 0 {
				return nil, errors.New("unclosed [")
			}
			class := p[i+1 : i+1+j]
			if class == "" || class == "!" || class == "^" {
				return nil, errors.New("empty [] class")
			}
			neg := false
			if class[0] == '!' || class[0] == '^' {
				neg, class = true, class[1:]
			}
			sb.WriteString("[")
			if neg {
				sb.WriteString("^")
			}
			for _, r := range class {
				if r == '-' {
					sb.WriteRune(r)
				} else {
					sb.WriteString(regexp.QuoteMeta(string(r)))
				}
			}
			sb.WriteString("]")
			i += j + 1
		case '\\':
			if i+1 < len(p) {
				i++
				sb.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		default:
			r, size := utf8.DecodeRuneInString(p[i:])
			sb.WriteString(regexp.QuoteMeta(string(r)))
			i += size - 1
		}
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, errors.New("bad [] class")
	}
	return &glob{re}, nil
}

func (g *glob) match(u *url.URL) bool {
	p := u.Path
	if p == "" {
		p = "/"
	}
	return g.re.MatchString(p)
}

// patterns is a source's include and exclude lists.
type patterns struct{ include, exclude []*glob }

func compilePatterns(include, exclude []string) (*patterns, error) {
	ps := &patterns{}
	for _, p := range include {
		g, err := compileGlob(p)
		if err != nil {
			return nil, err
		}
		ps.include = append(ps.include, g)
	}
	for _, p := range exclude {
		g, err := compileGlob(p)
		if err != nil {
			return nil, err
		}
		ps.exclude = append(ps.exclude, g)
	}
	return ps, nil
}

// allows reports whether u matches an include (if there are any) and no
// exclude.
func (ps *patterns) allows(u *url.URL) bool {
	for _, g := range ps.exclude {
		if g.match(u) {
			return false
		}
	}
	if len(ps.include) == 0 {
		return true
	}
	for _, g := range ps.include {
		if g.match(u) {
			return true
		}
	}
	return false
}
