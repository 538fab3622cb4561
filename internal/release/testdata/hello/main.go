// Command hello is a small program the release tests build twice, with
// the release flags, to check that two builds are byte-identical.
package main

import "fmt"

var releaseVersion string

func main() { fmt.Println("hello", releaseVersion) }
