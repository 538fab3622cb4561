package main

func browserCandidates() []string {
	return []string{
		"/Applications/Chromium.app/Contents/MacOS/Chromium",
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		"/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
		"/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
		"/Applications/Firefox.app/Contents/MacOS/firefox",
	}
}

// canShowWindows is true on macOS: a logged-in session has a screen.
func canShowWindows() bool { return true }
