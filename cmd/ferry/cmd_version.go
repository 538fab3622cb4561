package main

import (
	"context"
	"flag"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{name: "version", usage: "",
		summary: "print ferry's version and how it was built",
		about:   "Prints the version (the source revision it was built from), the Go version and the platform.",
		flags: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, t *terminal, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				t.printf("ferry %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		}})
}

// version is the module version, or the source revision a plain build
// records (with "+changes" when the tree was not committed).
func version() string {
	if releaseVersion != "" {
		return releaseVersion
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "(development build)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+changes"
	}
	return rev
}
