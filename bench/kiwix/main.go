// Command kiwix holds the Go helpers of bench/kiwix.sh, the side-by-side
// benchmark of ferry against Kiwix (zimwriterfs, kiwix-serve):
//
//	go run ./bench/kiwix corpus -testdata DIR -copies N -out DIR
//	    writes the KorQuAD articles as a Wikipedia-like HTML folder (plus the
//	    index.html welcome page and 48x48 illustration.png zimwriterfs needs),
//	    the article paths (paths.txt) and the questions (questions.tsv).
//	go run ./bench/kiwix urls -base URL -paths FILE [-n N] > urls.txt
//	    article URLs for wrk: base + each path, percent-escaped.
//	go run ./bench/kiwix zimpaths -zim FILE [-n N]
//	    article paths of a real ZIM (via ferry's ZIM reader).
//	go run ./bench/kiwix search -kind kiwix|ferry -base URL -book NAME -questions FILE [-n N] [-quality]
//	    asks each question once, sequentially, over HTTP; prints the latency
//	    median and p99 and, with -quality, the top-1 and top-3 hit rates.
//	go run ./bench/kiwix report -results FILE -doc docs/benchmarks.md -cmd CMD
//	    turns the measurements (lines "key value") into the ratio table,
//	    prints it and writes the section "## Side by side with Kiwix".
//
// It only talks to loopback addresses given by the script.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kiwix corpus|urls|zimpaths|search|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "corpus":
		err = corpus(os.Args[2:])
	case "urls":
		err = urls(os.Args[2:])
	case "zimpaths":
		err = zimPaths(os.Args[2:])
	case "search":
		err = search(os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	case "profile-serve":
		err = profileServe(os.Args[2:])
	case "wrk":
		err = medianCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/kiwix:", err)
		os.Exit(1)
	}
}
