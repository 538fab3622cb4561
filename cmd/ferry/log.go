package main

import (
	"io"
	"log"
)

// discardLog silences net/http's error log: the reader keeps no log of
// what was requested, not even of failed requests.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
