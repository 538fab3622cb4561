// Command ferry packs web content into signed, searchable archives, carries
// them across the gap and serves them to a browser on the reader's device.
//
// Run "ferry help" for the list of commands and "ferry COMMAND -h" for each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"ferry/internal/archive"
)

// command is one subcommand: its name, one-line summary and runner.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// Exit codes, decided here for every command.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitCorrupt  = 3 // the archive is damaged, truncated or tampered with
	exitTrust    = 4 // the archive is not signed by a trusted key
	exitCanceled = 130
)

// usageError marks errors in how a command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errUntrusted marks a valid archive signed by no trusted key.
var errUntrusted = errors.New("not signed by a trusted key")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := commands[args[1]]; c != nil {
				return run(ctx, []string{c.name, "-h"}, stderr)
			}
		}
		printHelp(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(stderr, "ferry: unknown command %q; run 'ferry help' for the list\n", args[0])
		return exitUsage
	}
	err := c.run(ctx, args[1:])
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "ferry %s: %s\n", c.name, oneLine(err))
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "run 'ferry %s -h' for help\n", c.name)
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitCanceled
	case errors.Is(err, errUntrusted):
		return exitTrust
	case errors.Is(err, archive.ErrCorrupt), errors.Is(err, archive.ErrTruncated),
		errors.Is(err, archive.ErrSignature), errors.Is(err, archive.ErrNotArchive):
		return exitCorrupt
	}
	return exitError
}

func oneLine(err error) string {
	s := err.Error()
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "ferry carries the internet's content to people who have none.")
	fmt.Fprintln(w, "\nUsage: ferry COMMAND [options] [arguments]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'ferry COMMAND -h' for a command's options.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 error, 2 bad usage, 3 damaged or tampered archive, 4 untrusted signer, 130 interrupted.")
}

// newFlags makes a flag set whose -h prints usage and the command's text.
func newFlags(name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ferry %s %s\n\n%s\n", name, args, strings.TrimSpace(about))
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(fs.Output(), "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags, allowing flags after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
