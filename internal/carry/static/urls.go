package static

import (
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// pageBase stands for where an exported page is opened from: file:// on
// some drive. What matters is only whether a reference stays on it.
const pageBase = "file:///ferry/export/page.html"

// outside reports a reference that a browser opening an exported page
// from file:// would resolve to somewhere off the card, or that runs
// script: the URL is parsed the way browsers do (the WHATWG URL
// standard: tabs and newlines removed anywhere, leading and trailing
// controls and spaces trimmed, backslashes read as slashes in http:,
// "http:H/x" taking H as its host, character references already decoded
// by the HTML tokenizer), and anything that is not a file: URL without a
// host, or a data: URL, is outside. A file: URL with a host is a network
// share (\\host\share). A reference that does not parse is outside too:
// what is not understood is not let through.
func outside(ref string) bool {
	u, err := whatwg.ParseRef(pageBase, ref)
	if err != nil {
		return true
	}
	switch u.Protocol() {
	case "file:":
		return u.Hostname() != ""
	case "data:":
		return false
	}
	return true
}

// scriptURL reports a javascript: or vbscript: URL, as a browser reads
// the scheme.
func scriptURL(ref string) bool {
	u, err := whatwg.ParseRef(pageBase, ref)
	if err != nil {
		return false
	}
	p := u.Protocol()
	return p == "javascript:" || p == "vbscript:"
}

// clickable reports a reference a reader may follow by clicking: links
// to other sites stay links (opening one is the reader's choice), but not
// scripts, nor network shares, which Windows would reach by itself.
func clickable(ref string) bool {
	u, err := whatwg.ParseRef(pageBase, ref)
	if err != nil {
		return false
	}
	switch u.Protocol() {
	case "http:", "https:", "mailto:":
		return true
	case "file:":
		return u.Hostname() == ""
	}
	return strings.HasPrefix(strings.TrimSpace(ref), "#")
}
