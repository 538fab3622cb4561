// Package glossary explains South Korean words that a North Korean reader
// does not know — English and other loanwords, Konglish, abbreviations and
// South-Korea-specific terms — as specified in docs/glossary.md.
//
// The glossary's data (glossary.tsv, embedded) is written by this project:
// each entry has a plain-Korean explanation made of native and Sino-Korean
// words and, where one is attested, the North Korean word. [Glossary.Find]
// finds headwords in Korean text, with particles and endings attached
// (스마트폰으로, 인터넷에서) but not inside longer unrelated words, and
// [Glossary.Annotate] marks them in an HTML page so that they are explained
// on tap or hover without JavaScript.
package glossary
