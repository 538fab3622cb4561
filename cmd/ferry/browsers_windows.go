package main

import (
	"os"
	"path/filepath"
)

func browserCandidates() []string {
	var out []string
	for _, env := range []string{"ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"} {
		base := os.Getenv(env)
		if base == "" {
			continue
		}
		out = append(out,
			filepath.Join(base, "Google", "Chrome", "Application", "chrome.exe"),
			filepath.Join(base, "Microsoft", "Edge", "Application", "msedge.exe"),
			filepath.Join(base, "Chromium", "Application", "chrome.exe"),
			filepath.Join(base, "Mozilla Firefox", "firefox.exe"),
		)
	}
	return out
}

// canShowWindows is true on Windows: a desktop session has a screen.
func canShowWindows() bool { return true }
