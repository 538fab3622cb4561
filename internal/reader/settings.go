package reader

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// settings are the reader's choices for one request: the UI language and
// whether glossed words are marked. They live only in the URL, never in a
// cookie or storage: a path prefix such as /kp/ or /en-g1/ (docs/reader.md,
// "Language and word notes"), which relative links inside archive pages
// keep by themselves, so a choice holds from page to page. Without a
// prefix the language comes from Accept-Language and links carry none.
type settings struct {
	lang     string // "ko", "kp" or "en"
	gloss    bool   // mark and explain glossed words
	explicit bool   // chosen in the URL: links the reader makes carry the prefix
}

// defaultGloss is whether word notes are on when not chosen: on for the
// Korean UIs, whose readers are the ones South Korean loanwords puzzle.
func defaultGloss(lang string) bool { return lang != "en" }

// segment is the path prefix element for s: the language, and -g0 or -g1
// when word notes differ from the language's default.
func (s settings) segment() string {
	seg := s.lang
	if s.gloss != defaultGloss(s.lang) {
		if s.gloss {
			seg += "-g1"
		} else {
			seg += "-g0"
		}
	}
	return seg
}

// prefix is what links start with: "" unless the settings were chosen.
func (s settings) prefix() string {
	if !s.explicit {
		return ""
	}
	return "/" + s.segment()
}

// parseSegment reads a path prefix element.
func parseSegment(seg string) (settings, bool) {
	lang, g, _ := strings.Cut(seg, "-")
	if !validUI(lang) {
		return settings{}, false
	}
	s := settings{lang: lang, gloss: defaultGloss(lang), explicit: true}
	switch g {
	case "":
	case "g0":
		if !s.gloss {
			return settings{}, false // one spelling per choice
		}
		s.gloss = false
	case "g1":
		if s.gloss {
			return settings{}, false
		}
		s.gloss = true
	default:
		return settings{}, false
	}
	if seg != s.segment() {
		return settings{}, false
	}
	return s, true
}

type settingsKey struct{}

// withSettings takes the settings off the front of r's path (or from an
// older ?lang= query, or from Accept-Language) and returns the request the
// routes see, without the prefix.
func withSettings(r *http.Request) *http.Request {
	s := settings{lang: acceptLang(r.Header.Get("Accept-Language"))}
	s.gloss = defaultGloss(s.lang)
	esc := r.URL.EscapedPath()
	rest := ""
	if seg, after, ok := strings.Cut(strings.TrimPrefix(esc, "/"), "/"); ok || seg != "" {
		if c, good := parseSegment(seg); good && strings.HasPrefix(esc, "/") {
			s = c
			rest = "/" + after
			if !ok {
				rest = "/"
			}
		}
	}
	if rest == "" {
		if q := r.URL.Query().Get("lang"); validUI(q) {
			s = settings{lang: q, gloss: defaultGloss(q), explicit: true}
		}
	}
	r2 := r.WithContext(context.WithValue(r.Context(), settingsKey{}, s))
	if rest != "" {
		u := *r.URL
		if p, err := url.PathUnescape(rest); err == nil {
			u.Path, u.RawPath = p, rest
			if u.EscapedPath() != rest {
				u.RawPath = ""
			}
		}
		r2.URL = &u
	}
	return r2
}

// settingsOf returns the settings withSettings stored in r.
func settingsOf(r *http.Request) settings {
	if s, ok := r.Context().Value(settingsKey{}).(settings); ok {
		return s
	}
	s := settings{lang: acceptLang(r.Header.Get("Accept-Language"))}
	s.gloss = defaultGloss(s.lang)
	return s
}

// queryWithout is r's query string without the lang parameter (which the
// prefix replaces), with its "?" when not empty.
func queryWithout(r *http.Request) string {
	q := r.URL.Query()
	if _, ok := q["lang"]; !ok {
		if r.URL.RawQuery == "" {
			return ""
		}
		return "?" + q.Encode()
	}
	q.Del("lang")
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
