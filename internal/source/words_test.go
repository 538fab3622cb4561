package source

import "testing"

// TestWordsFor: Korean for Korean content and content of no stated
// language, English for the rest.
func TestWordsFor(t *testing.T) {
	for lang, want := range map[string]string{"ko": "차례", "ko-KP": "차례", "KO_kr": "차례", "": "차례", "und": "차례",
		"en": "Contents", "en-US": "Contents", "fr": "Contents", "kok": "Contents"} {
		if got := WordsFor(lang).Contents; got != want {
			t.Errorf("WordsFor(%q).Contents = %q, want %q", lang, got, want)
		}
	}
}
