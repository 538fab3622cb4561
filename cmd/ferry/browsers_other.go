//go:build !windows && !darwin

package main

import "os"

func browserCandidates() []string {
	return []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "brave-browser", "firefox"}
}

// canShowWindows reports whether a graphical browser can open a window:
// on Linux and the BSDs there must be an X11 or Wayland display (Android
// under Termux has neither; there, 'ferry serve' and the phone's browser).
func canShowWindows() bool {
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
