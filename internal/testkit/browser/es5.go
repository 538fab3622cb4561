package browser

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The browsers of the Windows XP and 7 era (Firefox 52 ESR, Chrome 49,
// Internet Explorer 11) run ECMAScript 5 only: CheckES5 parses a script
// with acorn (ecmaVersion 5) under node and fails the test on any later
// syntax. acorn comes from npm: it is looked for in $FERRY_NODE_MODULES,
// in node_modules at the repository root, and in npm's global folder
// (npm install acorn, or npm install -g acorn); the test skips, saying
// so, without node or acorn.
func CheckES5(tb testing.TB, name string, src []byte) {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Skip("node is not installed: apt-get install nodejs, then npm install acorn (ES5 check skipped)")
	}
	acorn := findAcorn()
	if acorn == "" {
		tb.Skip("acorn not found: npm install acorn (in the repository root, or -g, or set FERRY_NODE_MODULES) (ES5 check skipped)")
	}
	dir := tb.TempDir()
	js := filepath.Join(dir, "check.js")
	code := `var acorn = require(process.argv[2]), fs = require('fs');
var src = fs.readFileSync(process.argv[3], 'utf8');
try { acorn.parse(src, {ecmaVersion: 5, sourceType: 'script', allowReserved: false}); }
catch (e) { console.log(e.message); process.exit(1); }`
	file := filepath.Join(dir, "script.js")
	if err := os.WriteFile(js, []byte(code), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, src, 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(node, js, acorn, file).CombinedOutput()
	if err != nil {
		tb.Errorf("%s is not ES5: %s", name, strings.TrimSpace(string(out)))
	}
}

func findAcorn() string {
	var roots []string
	if d := os.Getenv("FERRY_NODE_MODULES"); d != "" {
		roots = append(roots, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				roots = append(roots, filepath.Join(d, "node_modules"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	for _, r := range roots {
		for _, p := range []string{filepath.Join(r, "acorn"), filepath.Join(r, "node_modules", "acorn")} {
			if _, err := os.Stat(filepath.Join(p, "package.json")); err == nil {
				return p
			}
		}
	}
	return ""
}
