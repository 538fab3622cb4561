package static

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// FAT32 and Windows limits on names (see docs/static.md).
const (
	maxElement = 120 // UTF-16 units per path element (FAT32 allows 255; keep room)
	maxPath    = 200 // UTF-16 units of the whole relative path (Windows MAX_PATH is 260 with the drive and export folder)
)

var reserved = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
	"com¹": true, "com²": true, "com³": true, "lpt¹": true, "lpt²": true, "lpt³": true, "conin$": true, "conout$": true,
}

// extByMIME gives files a name extension a browser opening them from
// file:// (which has no Content-Type) needs to show them right.
var extByMIME = map[string]string{
	"text/html": ".html", "application/xhtml+xml": ".html", "text/css": ".css", "text/javascript": ".js",
	"application/javascript": ".js", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
	"image/svg+xml": ".svg", "image/webp": ".webp", "image/x-icon": ".ico", "image/vnd.microsoft.icon": ".ico",
	"video/mp4": ".mp4", "video/webm": ".webm", "video/ogg": ".ogv", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
	"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mp4": ".m4a", "application/pdf": ".pdf", "application/json": ".json",
	"text/plain": ".txt", "font/woff": ".woff", "font/woff2": ".woff2", "font/ttf": ".ttf", "text/vtt": ".vtt",
	"application/epub+zip": ".epub",
}

func baseMIME(m string) string {
	if i := strings.IndexByte(m, ';'); i >= 0 {
		m = m[:i]
	}
	return strings.ToLower(strings.TrimSpace(m))
}

// wantExt returns the extension a file of this type must end with, or "".
func wantExt(mime, name string) string {
	bm := baseMIME(mime)
	ext := strings.ToLower(path.Ext(name))
	if bm == "text/html" || bm == "application/xhtml+xml" {
		if ext == ".html" || ext == ".htm" {
			return ""
		}
		return ".html"
	}
	if ext != "" && len(ext) <= 6 && !strings.ContainsAny(ext, " ()") {
		return ""
	}
	return extByMIME[bm]
}

func units(s string) int { return len(utf16.Encode([]rune(s))) }

// safeElement makes one path element valid on FAT32 and Windows.
func safeElement(el string) string {
	var b strings.Builder
	for _, r := range el {
		switch {
		case r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"/\|?*`, r) || r == utf8.RuneError:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimRight(b.String(), ". ")
	if s == "" {
		s = "_"
	}
	stem := strings.ToLower(s)
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	if reserved[strings.TrimRight(stem, " ")] { // Windows ignores spaces before the extension
		s = "_" + s
	}
	return s
}

// shorten cuts s to at most n UTF-16 units, keeping ext and adding a short
// hash of the full name so shortened names stay distinct.
func shorten(s, ext string, n int) string {
	if units(s+ext) <= n {
		return s + ext
	}
	h := sha256.Sum256([]byte(s))
	tag := "~" + hex.EncodeToString(h[:4])
	r := []rune(s)
	for len(r) > 0 && units(string(r)+tag+ext) > n {
		r = r[:len(r)-1]
	}
	return strings.TrimRight(string(r), ". ") + tag + ext
}

// FAT32 folders hold at most 65,536 directory entries, and a long name
// takes one entry for its short name plus one per 13 UTF-16 units. A
// folder that would take more than maxFolderSlots is continued in
// numbered subfolders (~1, ~2...), so an archive of a million pages in
// one folder still fits. A variable so tests can make it small.
var maxFolderSlots = 60000

// slotsOf is how many FAT32 directory entries a name takes.
func slotsOf(name string) int { return 1 + (units(name)+12)/13 }

// namer maps archive paths to unique FAT32-safe relative file paths. It
// keeps the names it gave as hashes of their lower-cased form (a false
// match only makes a name take a ~2 it did not need), so its memory is a
// few words per entry.
type namer struct {
	used     map[uint64]struct{} // lower-cased paths of files and folders taken
	reserved map[string]bool     // lower-cased names ferry writes itself at the top
	slots    map[string]int      // directory entries taken per folder
	over     map[string]int      // the overflow subfolder a folder is filling
}

func newNamer(reservedNames ...string) *namer {
	n := &namer{used: map[uint64]struct{}{}, reserved: map[string]bool{}, slots: map[string]int{}, over: map[string]int{}}
	for _, r := range reservedNames {
		n.take(strings.ToLower(r))
		n.reserved[strings.ToLower(r)] = true
		n.slots[""] += slotsOf(r)
	}
	return n
}

func (n *namer) taken(p string) bool {
	_, ok := n.used[fnv64(p)]
	return ok
}

func (n *namer) take(p string) { n.used[fnv64(p)] = struct{}{} }

// folder returns the folder a new file of slots entries goes in: dir, or
// an overflow subfolder of it when dir is full.
func (n *namer) folder(dir string, slots int) string {
	k := n.over[dir]
	for {
		d := dir
		if k > 0 {
			sub := "~" + strconv.Itoa(k)
			if dir == "" {
				d = sub
			} else {
				d = dir + "/" + sub
			}
		}
		// Files fill half a folder; the rest is for its subfolders
		// (overflow ones included: room for thousands).
		if n.slots[d]+slots <= maxFolderSlots/2 {
			if k > n.over[dir] {
				n.over[dir] = k
			}
			n.slots[d] += slots
			return d
		}
		k++
	}
}

// name returns the file path for an entry path with the given MIME type.
func (n *namer) name(p, mime string) string {
	els := strings.Split(p, "/")
	for i := range els {
		els[i] = safeElement(els[i])
	}
	if len(els) > 1 && n.reserved[strings.ToLower(els[0])] {
		// Inside a folder ferry writes (titles/, search/): move aside, or
		// an entry would replace one of ferry's own files.
		els[0] = "_" + els[0]
	}
	last := els[len(els)-1]
	ext := wantExt(mime, last)
	dir := strings.Join(els[:len(els)-1], "/")
	budget := maxPath - units(dir) - 1
	if budget < 32 {
		// The folder path alone is too long: flatten it into a hash.
		h := sha256.Sum256([]byte(dir))
		dir = "long/" + hex.EncodeToString(h[:8])
		budget = maxPath - units(dir) - 1
	}
	limit := min(maxElement, budget-4) // room for an overflow folder "~12/"
	stem, own := last, ""
	if ext == "" {
		// The name has its extension already: a ~2 goes before it.
		if i := strings.LastIndexByte(last, '.'); i > 0 {
			stem, own = last[:i], last[i:]
		}
	}
	for k := 1; ; k++ {
		cand := last
		if k > 1 {
			cand = stem + "~" + strconv.Itoa(k) + own
		}
		file := shorten(cand, ext, limit)
		full := file
		if dir != "" {
			full = dir + "/" + file
		}
		key := strings.ToLower(full)
		if n.taken(key) {
			continue
		}
		// The name is free where the entry's path puts it; the folder may
		// be full and the file go in an overflow subfolder.
		d := n.folder(dir, slotsOf(file))
		full = file
		if d != "" {
			full = d + "/" + file
		}
		key2 := strings.ToLower(full)
		if d != dir && n.taken(key2) {
			continue
		}
		n.take(key)
		n.take(key2)
		// Folders are taken too, so no file takes a folder's name; a new
		// folder takes an entry in its parent.
		for x := path.Dir(full); x != "."; x = path.Dir(x) {
			lx := strings.ToLower(x)
			if n.taken(lx) {
				break
			}
			n.take(lx)
			parent := path.Dir(x)
			if parent == "." {
				parent = ""
			}
			n.slots[parent] += slotsOf(path.Base(x))
		}
		return full
	}
}

// relURL is the URL of file target as seen from file from (both relative
// file paths), percent-encoded for an href. It is not source.RelLink: it
// links the export's file names, not archive paths, so folders compare
// without case (FAT32 is case-insensitive) and it escapes only what a file
// name the namer made can hold (never ':', so no first segment reads as a
// URL scheme).
func relURL(from, target string) string {
	fd := strings.Split(path.Dir(from), "/")
	if path.Dir(from) == "." {
		fd = nil
	}
	td := strings.Split(target, "/")
	i := 0
	for i < len(fd) && i < len(td)-1 && strings.EqualFold(fd[i], td[i]) {
		i++
	}
	var parts []string
	for range fd[i:] {
		parts = append(parts, "..")
	}
	for _, el := range td[i:] {
		parts = append(parts, escapeElement(el))
	}
	return strings.Join(parts, "/")
}

// escapeElement percent-encodes what a URL path element cannot hold.
func escapeElement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || strings.IndexByte(`"#%'<>?\^`+"`"+`{|}`, c) >= 0 {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
