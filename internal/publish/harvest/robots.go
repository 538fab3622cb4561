package harvest

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// robots is what one host's robots.txt says to ferry, parsed as RFC 9309
// describes: the groups whose user-agent matches "ferry" (case-insensitive)
// are merged, else those for "*"; the longest matching rule decides, and an
// allow wins a tie. Parsing is permissive: lines it does not understand are
// skipped, as the RFC asks.
type robots struct {
	rules    []robotsRule
	delay    time.Duration // Crawl-delay of the chosen groups (not in the RFC, widely used)
	sitemaps []string      // Sitemap: lines, whichever group they are in
}

type robotsRule struct {
	allow   bool
	pattern string // percent-encoded path pattern with '*' and a final '$'
}

// maxRobotsSize is how much of a robots.txt is read; the RFC asks crawlers
// to parse at least 500 KiB.
const maxRobotsSize = 512 << 10

// maxRobotsRules bounds the work a hostile robots.txt can cause per URL.
const maxRobotsRules = 10000

// allowAll is the policy for a host whose robots.txt is missing (4xx).
var allowAll = &robots{}

// disallowAll is the policy for a host whose robots.txt could not be fetched
// (5xx, network errors): the RFC says to assume complete disallow.
var disallowAll = &robots{rules: []robotsRule{{allow: false, pattern: "/"}}}

// parseRobots reads a robots.txt for the product token agent (lowercase).
func parseRobots(b []byte, agent string) *robots {
	if len(b) > maxRobotsSize {
		b = b[:maxRobotsSize]
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	type group struct {
		agents   []string
		rules    []robotsRule
		delay    time.Duration
		hasDelay bool
	}
	var groups []*group
	var cur *group
	inAgents := false // the previous significant line was a user-agent line
	r := &robots{}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key := strings.ToLower(string(bytes.TrimSpace(k)))
		val := string(bytes.TrimSpace(v))
		switch key {
		case "user-agent", "useragent", "user agent":
			if !inAgents || cur == nil {
				cur = &group{}
				groups = append(groups, cur)
			}
			// The product token is the value up to the first space or '/'.
			tok := strings.ToLower(val)
			if i := strings.IndexAny(tok, " /\t"); i >= 0 {
				tok = tok[:i]
			}
			cur.agents = append(cur.agents, tok)
			inAgents = true
		case "allow", "disallow":
			inAgents = false
			if cur == nil || val == "" || len(cur.rules) >= maxRobotsRules {
				continue // rules before any user-agent; empty disallow means nothing
			}
			cur.rules = append(cur.rules, robotsRule{allow: key == "allow", pattern: normalizePattern(val)})
		case "crawl-delay":
			inAgents = false
			if cur == nil {
				continue
			}
			if f, err := strconv.ParseFloat(val, 64); err == nil && f >= 0 && f < 1e6 {
				cur.delay, cur.hasDelay = time.Duration(f*float64(time.Second)), true
			}
		case "sitemap":
			// Sitemap lines are independent of groups and do not end one.
			if u, err := url.Parse(val); err == nil && (u.Scheme == "http" || u.Scheme == "https") && len(r.sitemaps) < 100 {
				r.sitemaps = append(r.sitemaps, val)
			}
		default:
			inAgents = false
		}
	}
	pick := func(name string) bool {
		found := false
		for _, g := range groups {
			for _, a := range g.agents {
				if a == name {
					found = true
					r.rules = append(r.rules, g.rules...)
					if g.hasDelay && g.delay > r.delay {
						r.delay = g.delay
					}
					break
				}
			}
		}
		return found
	}
	if !pick(agent) {
		pick("*")
	}
	if len(r.rules) > maxRobotsRules {
		r.rules = r.rules[:maxRobotsRules]
	}
	return r
}

// normalizePattern percent-encodes what a URL's escaped path would have
// encoded, so that "/한국" in robots.txt matches the request for it, and
// makes sure the pattern starts with '/' or '*'.
func normalizePattern(p string) string {
	var sb strings.Builder
	if p[0] != '/' && p[0] != '*' {
		sb.WriteByte('/')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= utf8.RuneSelf || c <= ' ':
			sb.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
		case c == '%' && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]):
			// Compare escapes in one case.
			sb.WriteByte('%')
			sb.WriteString(strings.ToUpper(p[i+1 : i+3]))
			i += 2
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// allowed reports whether the URL with this escaped path and query may be
// fetched.
func (r *robots) allowed(u *url.URL) bool {
	if len(r.rules) == 0 {
		return true
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if p == "/robots.txt" {
		return true
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	p = normalizePattern(p) // same escaping as the patterns
	best, allow := -1, true
	for _, rule := range r.rules {
		if len(rule.pattern) < best {
			continue
		}
		if matchRobots(rule.pattern, p) {
			if len(rule.pattern) > best || rule.allow {
				allow = rule.allow
			}
			best = len(rule.pattern)
		}
	}
	return allow
}

// matchRobots matches a robots.txt pattern (prefix match; '*' any run of
// bytes; '$' at the end anchors) against a path. It runs in O(len(pat) ×
// len(path)) at worst, with no backtracking blow-up.
func matchRobots(pat, path string) bool {
	anchored := strings.HasSuffix(pat, "$")
	if anchored {
		pat = pat[:len(pat)-1]
	}
	// Classic single-star glob with one backtrack point, made prefix-only
	// (a trailing implicit '*') unless anchored.
	if !anchored {
		pat += "*"
	}
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(path) {
		switch {
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pat) && pat[pi] == path[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
