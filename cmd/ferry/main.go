// Command ferry packs web content into signed, searchable archives, carries
// them across the gap and serves them to a browser on the reader's device.
//
// Run "ferry help" for the list of commands and "ferry COMMAND -h" for each.
//
// Each command lives in its own file: an options struct with the command's
// flags, and runX(ctx, t, opts, args), which does the work and which tests
// call directly (the model is restic's cmd/restic). Everything a command
// prints goes to the term it is given, so a test sees it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"ferry/internal/archive"
	"ferry/internal/library"
)

// runFunc runs a command with its parsed options and positional arguments.
type runFunc func(ctx context.Context, t *terminal, args []string) error

// command is one command, or one subcommand of a group ("trust add").
type command struct {
	name    string // "pack", "trust add"
	usage   string // the arguments, after the name
	summary string // one line for 'ferry help'
	about   string // the help text
	// flags declares the command's options on fs, bound to a fresh
	// options value, and returns the function that runs the command
	// with them.
	flags func(fs *flag.FlagSet) runFunc
}

// group is a command made of subcommands (trust, library, broadcast...).
type group struct {
	name, summary, about string
}

var (
	commands = map[string]*command{}
	groups   = map[string]*group{}
)

func register(c *command) { commands[c.name] = c }

func registerGroup(g *group) { groups[g.name] = g }

// terminal is what a command talks to: where its output and messages go,
// where answers and passphrases come from, and whether a person is there
// to see progress bars and answer questions.
type terminal struct {
	out, err io.Writer // messages, with control characters escaped
	in       io.Reader
	tty      bool // a person is there: standard input and error are a terminal

	raw, rawErr io.Writer // the streams themselves (cat's bytes, progress bars); nil in tests

	inOnce sync.Once
	inBuf  *bufio.Reader
}

// Exit codes, decided here for every command.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitCorrupt  = 3 // the archive is damaged, truncated or tampered with
	exitTrust    = 4 // the archive is not signed by a trusted key
	exitFound    = 5 // scrub --check found something to remove
	exitCanceled = 130
)

// usageError marks errors in how a command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errUntrusted marks a valid archive signed by no trusted key.
var errUntrusted = errors.New("not signed by a trusted key")

// errFound marks a check that found what it looks for (scrub --check):
// not a failure of ferry, but the answer "yes" in the exit status.
var errFound = errors.New("found")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	if len(args) == 0 {
		if exe, err := os.Executable(); err == nil {
			args = besideLibrary(exe)
		}
	}
	code := run(ctx, args, osTerminal())
	stop()
	os.Exit(code)
}

// besideLibrary gives the arguments of a program started without any (a
// double click on a card): when the program lies in a library (in its
// programs folder or at its top) or beside a ferry-library folder, open
// that library in a private browser window; otherwise none (help).
func besideLibrary(exe string) []string {
	here := filepath.Dir(exe)
	for _, dir := range []string{filepath.Join(here, "ferry-library"), here, filepath.Dir(here)} {
		if st, err := os.Stat(filepath.Join(dir, library.StateFile)); err == nil && st.Mode().IsRegular() {
			return []string{"open", dir}
		}
	}
	return nil
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, t *terminal) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, append(args[1:], "-h"), t)
		}
		printHelp(t.err)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name, rest := args[0], args[1:]
	switch g := groups[name]; {
	case len(rest) > 0 && commands[name+" "+rest[0]] != nil:
		name, rest = name+" "+rest[0], rest[1:]
	case g != nil && commands[name] == nil:
		// A group without an action of its own: show its subcommands.
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" {
			printGroup(t.err, g)
			if len(rest) == 0 {
				return exitUsage
			}
			return exitOK
		}
		fmt.Fprintf(t.err, "ferry %s: unknown subcommand %q; run 'ferry %s -h' for the list\n", name, rest[0], name)
		return exitUsage
	}
	c := commands[name]
	if c == nil {
		fmt.Fprintf(t.err, "ferry: unknown command %q; run 'ferry help' for the list\n", name)
		return exitUsage
	}
	return exitCode(t, c.name, runCommand(ctx, t, c, rest))
}

// runCommand parses a command's flags and runs it.
func runCommand(ctx context.Context, t *terminal, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by exitCode
	fs.Usage = func() {}
	runner := c.flags(fs)
	pos, err := parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(t.out, c, fs)
		return nil
	}
	if err != nil {
		return err
	}
	return runner(ctx, t, pos)
}

// exitCode reports err (one line, with what to do) and maps it to the exit
// status.
func exitCode(t *terminal, name string, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errFound) {
		return exitFound
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(t.err, "ferry %s: interrupted\n", name)
		return exitCanceled
	}
	fmt.Fprintf(t.err, "ferry %s: %s\n", name, oneLine(err))
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(t.err, "run 'ferry %s -h' for help\n", name)
		return exitUsage
	case errors.Is(err, errUntrusted):
		return exitTrust
	case errors.Is(err, archive.ErrCorrupt), errors.Is(err, archive.ErrTruncated),
		errors.Is(err, archive.ErrSignature), errors.Is(err, archive.ErrNotArchive):
		return exitCorrupt
	}
	return exitError
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "ferry carries the internet's content to people who have none.")
	fmt.Fprintln(w, "\nUsage: ferry COMMAND [options] [arguments]\n\nCommands:")
	type line struct{ name, summary string }
	var lines []line
	for n, c := range commands {
		if !strings.Contains(n, " ") {
			lines = append(lines, line{n, c.summary})
		}
	}
	for n, g := range groups {
		if commands[n] == nil {
			lines = append(lines, line{n, g.summary})
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	for _, l := range lines {
		fmt.Fprintf(w, "  %-10s %s\n", l.name, l.summary)
	}
	fmt.Fprintln(w, "\nRun 'ferry COMMAND -h' for a command's options.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 error, 2 bad usage, 3 damaged or tampered archive, 4 untrusted signer, 5 scrub --check found marks, 130 interrupted.")
}

func printGroup(w io.Writer, g *group) {
	fmt.Fprintf(w, "Usage: ferry %s SUBCOMMAND [options]\n\n%s\n\nSubcommands:\n", g.name, strings.TrimSpace(g.about))
	var subs []string
	for n := range commands {
		if strings.HasPrefix(n, g.name+" ") {
			subs = append(subs, n)
		}
	}
	sort.Strings(subs)
	for _, n := range subs {
		fmt.Fprintf(w, "  ferry %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'ferry %s SUBCOMMAND -h' for its options.\n", g.name)
}

func printUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: ferry %s %s\n\n%s\n", c.name, c.usage, strings.TrimSpace(c.about))
	var subs []string
	for n := range commands {
		if strings.HasPrefix(n, c.name+" ") {
			subs = append(subs, n)
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		fmt.Fprintln(w, "\nSubcommands:")
		for _, n := range subs {
			fmt.Fprintf(w, "  ferry %-16s %s\n", n, commands[n].summary)
		}
	}
	var has bool
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nOptions:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
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
		rest := fs.Args()
		// fs.Parse drops a "--" it stops at: all after it is positional.
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" && !isFlagValue(fs, args[:used-1]) {
			return append(pos, rest...), nil
		}
		args = rest
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

// isFlagValue reports whether the next argument after before is the value
// of before's last flag (as in "-o --"), not a terminator.
func isFlagValue(fs *flag.FlagSet, before []string) bool {
	if len(before) == 0 {
		return false
	}
	last := before[len(before)-1]
	if !strings.HasPrefix(last, "-") || last == "-" || last == "--" || strings.Contains(last, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(last, "-"))
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
