package archive

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// foldTitle is the sort and match key of the title index: NFC, lower case,
// underscores and runs of white space as one space, trimmed.
func foldTitle(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r == '_' || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
