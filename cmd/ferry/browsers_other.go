//go:build !windows && !darwin

package main

func browserCandidates() []string {
	return []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "brave-browser", "firefox"}
}
