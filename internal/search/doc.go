// Package search builds and reads the full-text index stored in every ferry
// archive, as specified in docs/search-index.md.
//
// At pack time a Builder collects each article's title and visible text
// (Add is safe for concurrent use) and WriteTo writes the index bytes, which
// the archive stores as one section. At read time Open takes an io.ReaderAt
// over that section (already verified by the archive) and reads only a
// 96-byte trailer; Search then reads just the dictionary blocks and
// postings its terms need, so memory does not grow with the archive.
//
// Korean text is indexed as Hangul syllable bigrams after stripping a
// trailing particle (so 대통령이 finds 대통령), Han and Kana as bigrams,
// English words folded and Porter2-stemmed, other scripts as case-folded
// words; all text is NFC-normalised first. Ranking is BM25F with a title
// weight; Snippet marks the matched words in an excerpt.
package search
