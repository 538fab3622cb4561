// Package release builds ferry for every platform it runs on, reproducibly
// (the same source gives the same bytes), and signs the list of what it
// built with a publisher key, so the programs can travel on a card beside
// the library and be checked on the other side before anyone runs them.
// docs/release.md specifies the list and its signature.
package release

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/atomicfile"
	"ferry/internal/key"
)

// Target is a platform ferry is built for.
type Target struct {
	OS, Arch string
	ARM      string // GOARM for 32-bit ARM
	// For says, in Korean, which devices run it (for the card's README).
	For string
}

// Targets are the release platforms. Android phones run the linux/arm64
// build too (under Termux); android/arm64 is the native one.
var Targets = []Target{
	{"linux", "amd64", "", "64비트 리눅스 콤퓨터 (붉은별 4 포함)"},
	{"linux", "386", "", "32비트 리눅스 콤퓨터 (붉은별 3 포함)"},
	{"linux", "arm64", "", "64비트 ARM 리눅스, 안드로이드 손전화의 Termux"},
	{"linux", "arm", "7", "32비트 ARM 리눅스 (라즈베리 파이 같은 작은 콤퓨터)"},
	{"windows", "amd64", "", "64비트 윈도우즈 10, 11"},
	{"windows", "386", "", "32비트 윈도우즈 10"},
	{"windows", "arm64", "", "ARM 윈도우즈 11"},
	{"darwin", "amd64", "", "인텔 맥 콤퓨터"},
	{"darwin", "arm64", "", "애플 M 맥 콤퓨터"},
	{"android", "arm64", "", "안드로이드 손전화 (명령행에서)"},
}

// FileName is the program's file name for the target.
func (t Target) FileName() string {
	name := "ferry-" + t.OS + "-" + t.Arch
	if t.ARM != "" {
		name += "v" + t.ARM
	}
	if t.OS == "windows" {
		name += ".exe"
	}
	return name
}

// String is "os/arch".
func (t Target) String() string { return t.OS + "/" + t.Arch }

// ParseTarget finds a release target by "os/arch".
func ParseTarget(s string) (Target, error) {
	for _, t := range Targets {
		if t.String() == s {
			return t, nil
		}
	}
	var names []string
	for _, t := range Targets {
		names = append(names, t.String())
	}
	return Target{}, fmt.Errorf("release: no target %q (targets: %s)", s, strings.Join(names, ", "))
}

// Build compiles the command in pkg (e.g. "./cmd/ferry", relative to the
// module in srcDir) for t into dir. The build is reproducible: no paths of
// this machine (-trimpath), no build id, no VCS stamp (the version is set
// with -X main.releaseVersion), no cgo, symbols and DWARF left out (-s -w:
// a third smaller, and nothing that names the builder).
func Build(ctx context.Context, srcDir, pkg, dir string, t Target, version string) (string, error) {
	out := filepath.Join(dir, t.FileName())
	ld := "-s -w -buildid="
	if version != "" {
		ld += " -X main.releaseVersion=" + version
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags="+ld, "-o", out, pkg)
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED=0", "GOFLAGS=")
	if t.ARM != "" {
		cmd.Env = append(cmd.Env, "GOARM="+t.ARM)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("release: building %s: %w\n%s", t, err, bytes.TrimSpace(b))
	}
	return out, nil
}

// ListFile and SigFile are the names of the checksum list and its
// signature in a release folder.
const (
	ListFile = "programs.sha256"
	SigFile  = "programs.sig"
	sigHead  = "ferry-programs-v1"
	sigLabel = "ferry programs list v1\x00"
)

// ErrList reports a release folder whose list, signature or files do not
// check out.
var ErrList = errors.New("release: programs")

// Sign writes ListFile (the SHA-256 and name of every file given, sorted
// by name) and SigFile (each signer's public key and signature over the
// list, then the certificates and revocations in extra, as a manifest
// carries them, so that a list signed by a certified key is trusted where
// its root is) into dir.
func Sign(dir string, files []string, extra map[string]json.RawMessage, signers ...*key.Secret) error {
	if len(signers) == 0 {
		return errors.New("release: a signing key is needed")
	}
	var lines []string
	for _, f := range files {
		sum, err := fileSum(f)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s  %s\n", sum, filepath.Base(f)))
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	list := []byte(strings.Join(lines, ""))
	sig := sigHead + "\n"
	for _, s := range signers {
		sig += s.Public().String() + " " + base64.RawURLEncoding.EncodeToString(s.Sign(append([]byte(sigLabel), list...))) + "\n"
	}
	if len(extra) > 0 {
		b, err := json.Marshal(extra) // compact: one line
		if err != nil {
			return err
		}
		sig += extraPrefix + string(b) + "\n"
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ListFile), list, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, SigFile), []byte(sig), 0o644)
}

// extraPrefix starts the line of programs.sig carrying certificates and
// revocations.
const extraPrefix = "extra "

// Trusted decides whether the keys whose signatures over a list verify,
// with the statements the signature file carries, are a publisher the
// library trusts (trust.Store.Check).
type Trusted func(signers []key.Public, extra map[string]json.RawMessage) bool

// Verified is a release folder whose list is signed and whose files match it.
type Verified struct {
	Files   []string     // names, as listed
	Signers []key.Public // keys whose signatures over the list verify
}

// Verify checks the release folder dir: the list must be signed by at
// least one key that trusted accepts, and every file it lists must be in
// dir with that SHA-256. Files not listed are ignored (and not copied by
// callers).
func Verify(dir string, trusted Trusted) (*Verified, error) {
	list, err := readSmall(filepath.Join(dir, ListFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrList, err)
	}
	sig, err := readSmall(filepath.Join(dir, SigFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrList, err)
	}
	v := &Verified{}
	sc := bufio.NewScanner(bytes.NewReader(sig))
	if !sc.Scan() || sc.Text() != sigHead {
		return nil, fmt.Errorf("%w: %s is not a ferry programs signature", ErrList, SigFile)
	}
	msg := append([]byte(sigLabel), list...)
	var extra map[string]json.RawMessage
	for sc.Scan() {
		if j, ok := strings.CutPrefix(sc.Text(), extraPrefix); ok {
			if err := json.Unmarshal([]byte(j), &extra); err != nil {
				return nil, fmt.Errorf("%w: the certificates in %s do not parse: %v", ErrList, SigFile, err)
			}
			continue
		}
		k, s, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		p, _, err := key.ParsePublic(k)
		if err != nil {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err == nil && p.Verify(msg, b) {
			v.Signers = append(v.Signers, p)
		}
	}
	if len(v.Signers) == 0 {
		return nil, fmt.Errorf("%w: the list's signature does not verify", ErrList)
	}
	if !trusted(v.Signers, extra) {
		return nil, fmt.Errorf("%w: the list is signed by %s, a key this library does not trust (nor certified by one)", ErrList, v.Signers[0].Fingerprint())
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(list), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" || name != filepath.Base(name) || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			return nil, fmt.Errorf("%w: bad line %q in %s", ErrList, line, ListFile)
		}
		got, err := fileSum(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrList, err)
		}
		if got != sum {
			return nil, fmt.Errorf("%w: %s does not match its checksum: it was changed or damaged; do not run it", ErrList, name)
		}
		v.Files = append(v.Files, name)
	}
	return v, nil
}

// Copy verifies the release folder src and copies its listed files, the
// list and its signature into dst (made if missing), each file checked
// again after the copy, and writes ReadmeFile there. dst must be a real folder (not a link leading
// elsewhere).
func Copy(src, dst string, trusted Trusted) (*Verified, error) {
	v, err := Verify(src, trusted)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.MkdirReal(dst); err != nil {
		return nil, err
	}
	for _, name := range append(append([]string{}, v.Files...), ListFile, SigFile) {
		if err := copyFile(filepath.Join(src, name), filepath.Join(dst, name)); err != nil {
			return nil, err
		}
	}
	if _, err := Verify(dst, trusted); err != nil {
		return nil, fmt.Errorf("the copy in %s: %w", dst, err)
	}
	if err := writeReadme(dst, v.Files); err != nil {
		return nil, err
	}
	return v, nil
}

func copyFile(src, dst string) error {
	in, err := openRegular(src)
	if err != nil {
		return err
	}
	defer in.Close()
	mode := os.FileMode(0o644)
	if st, err := in.Stat(); err == nil && st.Mode()&0o111 != 0 {
		mode = 0o755
	}
	return atomicfile.Write(dst, mode, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

func fileSum(path string) (string, error) {
	f, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openRegular opens path only if it is a regular file: a FIFO would block
// and a device (or a link to /dev/zero) read forever.
func openRegular(path string) (*os.File, error) {
	if st, err := os.Lstat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (a link, FIFO or device); refused", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file; refused", path)
	}
	return f, nil
}

func readSmall(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s is larger than 1 MiB", path)
	}
	return b, nil
}
