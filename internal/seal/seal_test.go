package seal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"ferry/internal/testkit/shared"
)

const (
	outerPass  = "봄날 outer decoy"
	hiddenPass = "hidden 진짜 library"
)

// testFiles returns the files the tests store: content of our own of the
// sizes and kinds a library holds (ownFiles) and, when the shared test data
// is there, other people's real files too (a KorQuAD JSON, an EPUB, a WARC).
func testFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := ownFiles(t)
	root := shared.Root()
	for name, rel := range map[string]string{
		"korquad.json": "korquad/KorQuAD_v1.0_dev.json",
		"alice.epub":   "epub/alice.epub",
		"iana.warc.gz": "warc/iana.warc.gz",
	} {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if root == "" || err != nil {
			t.Logf("shared test data %s not found: stored our own files only", rel)
			continue
		}
		out["shared-"+name] = b
	}
	return out
}

func prefix(pass string) string {
	if pass == hiddenPass {
		return "h-"
	}
	return "o-"
}

func TestCreateUnlockAddOpenOnDisk(t *testing.T) {
	files := testFiles(t)
	path := filepath.Join(t.TempDir(), "card.bin")
	const size = 16<<20 + 12345 // not a multiple of the block size
	if err := Create(context.Background(), path, size, outerPass, hiddenPass); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != size {
		t.Fatalf("size %v, %v; want %d", st.Size(), err, size)
	}
	if err := Create(context.Background(), path, size, outerPass, ""); err == nil {
		t.Fatal("Create overwrote an existing file")
	}
	for _, pass := range []string{outerPass, hiddenPass} {
		// Writes to the outer library name the hidden one too, so that
		// they avoid its blocks (TestOuterAloneMayDestroyHidden).
		var v *Volume
		var err error
		if pass == outerPass {
			v, err = UnlockBoth(path, outerPass, hiddenPass)
		} else {
			v, err = Unlock(path, pass)
		}
		if err != nil {
			t.Fatalf("unlock: %v", err)
		}
		if v.Hidden() != (pass == hiddenPass) {
			t.Fatalf("Hidden() = %v for %q", v.Hidden(), pass)
		}
		if len(v.List()) != 0 {
			t.Fatalf("new library not empty: %v", v.List())
		}
		for name, b := range files {
			mustAdd(t, v, prefix(pass)+name, b)
		}
		mustAdd(t, v, "empty", nil)
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, pass := range []string{outerPass, hiddenPass} {
		v, err := Unlock(path, pass)
		if err != nil {
			t.Fatal(err)
		}
		list := v.List()
		if len(list) != len(files)+1 || list[0].Name != "empty" || list[0].Size != 0 {
			t.Fatalf("list %v", list)
		}
		for name, want := range files {
			got, err := readAll(v, prefix(pass)+name)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: content differs (%v)", name, err)
			}
		}
		if _, _, err := v.Open("missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("open missing: %v", err)
		}
		v.Close()
		if _, _, err := v.Open("empty"); !errors.Is(err, ErrClosed) {
			t.Fatalf("open after close: %v", err)
		}
	}
	if st, _ := os.Stat(path); st.Size() != size {
		t.Fatalf("container changed size to %d", st.Size())
	}
}

func TestReaderAtSemantics(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	data := pseudo(3*payloadSize+17, 1) // ends just past a block boundary
	mustAdd(t, v, "f", data)
	ra, size, err := v.Open("f")
	if err != nil || size != int64(len(data)) {
		t.Fatal(size, err)
	}
	// Edge cases: exactly at block boundaries, past the end, empty reads.
	for _, c := range []struct {
		off, n int
		wantN  int
		eof    bool
	}{
		{0, 0, 0, false},
		{payloadSize - 1, 2, 2, false},
		{payloadSize, payloadSize, payloadSize, false},
		{len(data) - 5, 5, 5, false},
		{len(data) - 5, 10, 5, true},
		{len(data), 1, 0, true},
		{len(data) + 100, 1, 0, true},
	} {
		p := make([]byte, c.n)
		n, err := ra.ReadAt(p, int64(c.off))
		if n != c.wantN || (err == io.EOF) != c.eof || (err != nil && err != io.EOF) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
		if !bytes.Equal(p[:n], data[min(c.off, len(data)):min(c.off, len(data))+n]) {
			t.Errorf("ReadAt(%d, %d): wrong bytes", c.off, c.n)
		}
	}
	if _, err := ra.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	// Concurrent random reads (more goroutines than cache entries).
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				off := r.IntN(len(data))
				n := r.IntN(len(data)-off) % 100000
				p := make([]byte, n)
				if k, err := ra.ReadAt(p, int64(off)); k != n || (err != nil && err != io.EOF) || !bytes.Equal(p, data[off:off+n]) {
					t.Errorf("concurrent ReadAt(%d,%d) = %d, %v", off, n, k, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCreateRejects(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		size          int64
		outer, hidden string
		want          error
	}{
		{MinSize - 1, "a", "", ErrSize},
		{MaxSize + 1, "a", "", ErrSize},
		{MinSize, "", "", ErrPassphrase},
		{MinSize, "same", "same", ErrPassphrase},
	}
	for i, c := range cases {
		p := filepath.Join(dir, "c")
		if err := Create(context.Background(), p, c.size, c.outer, c.hidden); !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("case %d: file left behind", i)
		}
	}
}

func TestNames(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\x00b", "tab\there", string(bytes.Repeat([]byte("x"), MaxNameLen+1)), "\xff"} {
		if err := v.Add(bad, bytes.NewReader(nil), 0); !errors.Is(err, ErrBadName) {
			t.Errorf("Add(%q) = %v", bad, err)
		}
	}
	for _, good := range []string{"news-ko-42.ferry", "조선말 사전.ferry", string(bytes.Repeat([]byte("x"), MaxNameLen))} {
		mustAdd(t, v, good, []byte("x"))
	}
}

func TestReplaceRemoveFull(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	free0, _ := v.Free()
	if want := int64(MinSize/BlockSize-firstData) * payloadSize; free0 != want {
		t.Fatalf("free %d, want %d", free0, want)
	}
	mustAdd(t, v, "a", pseudo(5*payloadSize, 1))
	mustAdd(t, v, "a", pseudo(2*payloadSize, 2)) // replace
	if got, _ := readAll(v, "a"); !bytes.Equal(got, pseudo(2*payloadSize, 2)) {
		t.Fatal("replace did not take")
	}
	if f, _ := v.Free(); f != free0-2*payloadSize {
		t.Fatalf("old blocks not freed: free %d", f)
	}
	if err := v.Add("big", bytes.NewReader(nil), free0); !errors.Is(err, ErrFull) {
		t.Fatalf("oversize add: %v", err)
	}
	if err := v.Add("huge", bytes.NewReader(nil), math.MaxInt64); !errors.Is(err, ErrFull) {
		t.Fatalf("add of the largest size: %v", err)
	}
	if err := v.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	mustAdd(t, v, "big", pseudo(int(free0), 3)) // exactly fills it
	if f, _ := v.Free(); f != 0 {
		t.Fatalf("free %d after filling", f)
	}
	v2 := mustUnlock(t, m, outerPass)
	if l := v2.List(); len(l) != 1 || l[0] != (File{"big", free0}) {
		t.Fatalf("list %v", l)
	}
	if got, err := readAll(v2, "big"); err != nil || !bytes.Equal(got, pseudo(int(free0), 3)) {
		t.Fatal("content", err)
	}
}

func TestShortInputLeavesStateIntact(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	mustAdd(t, v, "keep", []byte("kept"))
	if err := v.Add("x", bytes.NewReader(make([]byte, 10)), 1000000); !errors.Is(err, ErrShortInput) {
		t.Fatalf("short input: %v", err)
	}
	v2 := mustUnlock(t, m, outerPass)
	if l := v2.List(); len(l) != 1 || l[0].Name != "keep" {
		t.Fatalf("list %v", l)
	}
}

// TestWrongPassphraseEqualsNoHidden: the two failures are the same error
// value, reached through the same trial decryptions (the key derivation runs
// unconditionally before, see unlock).
func TestWrongPassphraseEqualsNoHidden(t *testing.T) {
	with := newMem(t, MinSize, outerPass, hiddenPass)
	without := newMem(t, MinSize, outerPass, "")
	_, errWrong := unlockMem(with, "not the passphrase")
	_, errAbsent := unlockMem(without, hiddenPass)
	_, errWrong2 := unlockMem(without, "not the passphrase")
	for _, err := range []error{errWrong, errAbsent, errWrong2} {
		if err != ErrNoVolume { // identity, not only errors.Is: no wrapping that could differ
			t.Fatalf("got %v, want ErrNoVolume itself", err)
		}
	}
	_, errBoth := unlockBothMem(without, outerPass, hiddenPass)
	if errBoth != ErrNoVolume {
		t.Fatalf("UnlockBoth without hidden: %v", errBoth)
	}
	// Same work: every candidate slot is tried in both cases, and also when
	// the library exists.
	salt := with.b[:saltSize]
	for _, c := range []struct {
		m    *memStore
		pass string
	}{{with, "wrong"}, {without, hiddenPass}, {with, hiddenPass}, {with, outerPass}} {
		_, _, tried, _ := findSuper(c.m, int64(len(c.m.b))/BlockSize, newKeys(masterKey(c.pass, c.m.b[:saltSize])))
		if tried != numCandidates {
			t.Fatalf("%q tried %d slots, want %d", c.pass, tried, numCandidates)
		}
	}
	_ = salt
	// A file too small to be a container gives the same answer.
	tiny := &memStore{b: make([]byte, 1000)}
	if _, err := unlockMem(tiny, outerPass); err != ErrNoVolume {
		t.Fatalf("tiny file: %v", err)
	}
	// And on disk, through the exported API.
	dir := t.TempDir()
	p := filepath.Join(dir, "c")
	if err := Create(context.Background(), p, MinSize, outerPass, ""); err != nil {
		t.Fatal(err)
	}
	_, e1 := Unlock(p, hiddenPass)
	_, e2 := Unlock(p, "wrong")
	if e1 != ErrNoVolume || e2 != ErrNoVolume || e1.Error() != e2.Error() {
		t.Fatalf("%v / %v", e1, e2)
	}
}

// fill adds files of n blocks to v until the container is full.
func fill(t *testing.T, v *Volume, prefix string, n int) []string {
	t.Helper()
	var names []string
	for i := 0; ; i++ {
		name := prefix + string(rune('a'+i%26)) + string(rune('0'+i/26))
		err := v.Add(name, bytes.NewReader(pseudo(n*payloadSize-100, byte(i))), int64(n*payloadSize-100))
		if errors.Is(err, ErrFull) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
}

func TestOuterWritesProtectHiddenWhenBothUnlocked(t *testing.T) {
	m := newMem(t, 2*MinSize, outerPass, hiddenPass)
	files := ownFiles(t)
	h := mustUnlock(t, m, hiddenPass)
	mustAdd(t, h, "book.epub", files["book.epub"])
	mustAdd(t, h, "law.txt", files["law.txt"])
	mustAdd(t, h, "site.gz", files["site.gz"])
	h.Close()

	o, err := unlockBothMem(m, outerPass, hiddenPass)
	if err != nil {
		t.Fatal(err)
	}
	if o.Hidden() {
		t.Fatal("UnlockBoth returned the hidden library")
	}
	// Fill all the space the outer library may use, then churn.
	names := fill(t, o, "o", 3)
	if len(names) == 0 {
		t.Fatal("nothing fit")
	}
	for _, n := range names[:len(names)/2] {
		if err := o.Remove(n); err != nil {
			t.Fatal(err)
		}
	}
	fill(t, o, "p", 1)
	o.Close()

	h = mustUnlock(t, m, hiddenPass)
	for _, name := range []string{"book.epub", "law.txt", "site.gz"} {
		got, err := readAll(h, name)
		if err != nil || !bytes.Equal(got, files[name]) {
			t.Fatalf("hidden %s damaged: %v", name, err)
		}
	}
	// The hidden library, opened alone, protects the outer one.
	fill(t, h, "h", 2)
	o = mustUnlock(t, m, outerPass)
	for _, n := range o.List() {
		if _, err := readAll(o, n.Name); err != nil {
			t.Fatalf("outer %s damaged by hidden writes: %v", n.Name, err)
		}
	}
}

// TestOuterAloneMayDestroyHidden documents what docs/seal.md says: an outer
// library opened alone does not know the hidden blocks and may overwrite
// them. The damage is always detected, never returned as content.
func TestOuterAloneMayDestroyHidden(t *testing.T) {
	m := newMem(t, MinSize, outerPass, hiddenPass)
	h := mustUnlock(t, m, hiddenPass)
	hdata := pseudo(20*payloadSize, 9)
	mustAdd(t, h, "h", hdata)
	h.Close()
	o := mustUnlock(t, m, outerPass)
	fill(t, o, "o", 4) // fills the container, hidden blocks included
	o.Close()
	h, err := unlockMem(m, hiddenPass)
	if err != nil {
		if err != ErrNoVolume {
			t.Fatalf("unexpected error %v", err)
		}
		return // superblock overwritten by chaff: the hidden library is gone
	}
	got, err := readAll(h, "h")
	if err == nil {
		t.Fatalf("hidden file survived a full outer overwrite (equal=%v)", bytes.Equal(got, hdata))
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damage reported as %v, want ErrCorrupt", err)
	}
}

// TestCorruptionDetected flips random bytes of a container holding files
// and checks every read returns the right bytes or an error.
func TestCorruptionDetected(t *testing.T) {
	m := newMem(t, MinSize, outerPass, hiddenPass)
	want := map[string][]byte{"a": pseudo(3*payloadSize+5, 1), "b": pseudo(1000, 2), "c": pseudo(payloadSize, 3)}
	o, err := unlockBothMem(m, outerPass, hiddenPass)
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range want {
		mustAdd(t, o, n, b)
	}
	h := mustUnlock(t, m, hiddenPass)
	mustAdd(t, h, "h", pseudo(2*payloadSize, 4))
	want["h"] = pseudo(2*payloadSize, 4)
	// Blocks that matter: superblocks and file blocks of both libraries.
	var hot []int64
	for _, v := range []*Volume{o, h} {
		hot = append(hot, v.slot)
		for _, e := range v.sb.files {
			hot = append(hot, blocksOf(e.ext)...)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	detected := 0
	for i := range 250 {
		c := m.snapshot()
		var pos int64
		if i%4 == 0 {
			pos = r.Int64N(int64(len(c.b)))
		} else {
			pos = hot[r.IntN(len(hot))]*BlockSize + r.Int64N(BlockSize)
		}
		c.b[pos] ^= byte(1 + r.IntN(255))
		for _, pass := range []string{outerPass, hiddenPass} {
			v, err := unlockMem(c, pass)
			if err != nil {
				if !errors.Is(err, ErrNoVolume) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("flip at %d: unlock: %v", pos, err)
				}
				detected++
				continue
			}
			for _, f := range v.List() {
				got, err := readAll(v, f.Name)
				if err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("flip at %d: %s: %v", pos, f.Name, err)
					}
					detected++
					continue
				}
				if !bytes.Equal(got, want[f.Name]) {
					t.Fatalf("flip at %d: %s returned wrong content", pos, f.Name)
				}
			}
		}
	}
	if detected < 150 {
		t.Fatalf("only %d detections: the flips did not reach the data", detected)
	}
}

// TestCrashLeavesOldOrNewState cuts an Add and a Remove at every write and
// checks the library then opens with exactly the old or the new contents.
func TestCrashLeavesOldOrNewState(t *testing.T) {
	base := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, base, outerPass)
	mustAdd(t, v, "old", pseudo(2*payloadSize, 1))
	newData := pseudo(3*payloadSize+1, 2)
	ops := map[string]func(v *Volume) error{
		"add":     func(v *Volume) error { return v.Add("new", bytes.NewReader(newData), int64(len(newData))) },
		"replace": func(v *Volume) error { return v.Add("old", bytes.NewReader(newData), int64(len(newData))) },
		"remove":  func(v *Volume) error { return v.Remove("old") },
	}
	for opName, op := range ops {
		for failAt := 1; ; failAt++ {
			m := base.snapshot()
			v := mustUnlock(t, m, outerPass)
			m.failAt = failAt
			err := op(v)
			m.failAt = 0
			after := mustUnlock(t, m.snapshot(), outerPass)
			list := after.List()
			state := map[string][]byte{}
			for _, f := range list {
				b, rerr := readAll(after, f.Name)
				if rerr != nil {
					t.Fatalf("%s crash at write %d: %s unreadable: %v", opName, failAt, f.Name, rerr)
				}
				state[f.Name] = b
			}
			isOld := len(state) == 1 && bytes.Equal(state["old"], pseudo(2*payloadSize, 1))
			var isNew bool
			switch opName {
			case "add":
				isNew = len(state) == 2 && bytes.Equal(state["new"], newData) && bytes.Equal(state["old"], pseudo(2*payloadSize, 1))
			case "replace":
				isNew = len(state) == 1 && bytes.Equal(state["old"], newData)
			case "remove":
				isNew = len(state) == 0
			}
			if !isOld && !isNew {
				t.Fatalf("%s crash at write %d: neither old nor new state: %v", opName, failAt, list)
			}
			if err != nil && isNew && m.writes < failAt {
				t.Fatalf("%s: error %v but new state", opName, err)
			}
			if m.writes < failAt { // the op finished before the crash point
				if err != nil || !isNew {
					t.Fatalf("%s without crash: %v, new=%v", opName, err, isNew)
				}
				break
			}
		}
	}
}

// TestPassphraseNFC: a Hangul passphrase unlocks whether it arrives
// precomposed (NFC) or as conjoining jamo (NFD).
func TestPassphraseNFC(t *testing.T) {
	nfc := "조선 \uD55C\uAE00"                         // 한글, precomposed
	nfd := "조선 \u1112\u1161\u11AB\u1100\u1173\u11AF" // 한글, decomposed
	m := newMem(t, MinSize, nfc, "")
	if _, err := unlockMem(m, nfd); err != nil {
		t.Fatalf("NFD form of the passphrase: %v", err)
	}
}

// changedBlocks lists the blocks that differ between two images.
func changedBlocks(a, b []byte) []int64 {
	var out []int64
	for i := int64(0); (i+1)*BlockSize <= int64(len(a)); i++ {
		if !bytes.Equal(a[i*BlockSize:(i+1)*BlockSize], b[i*BlockSize:(i+1)*BlockSize]) {
			out = append(out, i)
		}
	}
	return out
}

// TestChangedBlocksPerWrite checks what two images taken around one Add
// show: exactly the file's blocks, the new and the old directory slot, and
// chaffBlocks more — never block 0 or a block of the other library.
func TestChangedBlocksPerWrite(t *testing.T) {
	m := newMem(t, 4*MinSize, outerPass, hiddenPass)
	h := mustUnlock(t, m, hiddenPass)
	mustAdd(t, h, "h", pseudo(30*payloadSize, 1))
	hidden := map[int64]bool{h.slot: true}
	for _, b := range blocksOf(h.sb.files[0].ext) {
		hidden[b] = true
	}
	o, err := unlockBothMem(m, outerPass, hiddenPass)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		before := bytes.Clone(m.b)
		oldSlot := o.slot
		mustAdd(t, o, "o"+string(rune('a'+i)), pseudo(2*payloadSize, byte(i)))
		changed := changedBlocks(before, m.b)
		if want := 2 + 2 + chaffBlocks; len(changed) != want {
			t.Fatalf("add %d changed %d blocks, want %d", i, len(changed), want)
		}
		for _, b := range changed {
			if b == 0 || hidden[b] {
				t.Fatalf("add %d changed protected block %d", i, b)
			}
		}
		inSlots := 0
		for _, b := range changed {
			if b < firstData {
				inSlots++
			}
		}
		if inSlots < 2+chaffSlots {
			t.Fatalf("add %d changed %d slot-area blocks, want at least %d", i, inSlots, 2+chaffSlots)
		}
		if !slicesContains(changed, oldSlot) || !slicesContains(changed, o.slot) {
			t.Fatalf("directory slots %d, %d not both rewritten", oldSlot, o.slot)
		}
	}
}

func slicesContains(s []int64, x int64) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func TestReadOnly(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	mustAdd(t, v, "a", []byte("x"))
	v.readOnly = true // as after openFile fell back to reading only
	if err := v.Add("b", bytes.NewReader(nil), 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("add: %v", err)
	}
	if err := v.Remove("a"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("remove: %v", err)
	}
	if os.Geteuid() == 0 {
		// Nothing here can make a file unwritable for root; the refusal
		// itself was checked above.
		t.Log("running as root: file permissions do not stop writing, so the fallback to a read-only open is not tried")
		return
	}
	p := filepath.Join(t.TempDir(), "c")
	if err := Create(context.Background(), p, MinSize, outerPass, ""); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o400)
	v, err := Unlock(p, outerPass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Add("b", bytes.NewReader(nil), 0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("add to read-only file: %v", err)
	}
}

// TestOuterViewSameWithOrWithoutHidden: what the outer library shows (its
// files and its free space) does not depend on a hidden library existing.
func TestOuterViewSameWithOrWithoutHidden(t *testing.T) {
	var frees []int64
	for _, hidden := range []string{"", hiddenPass} {
		m := newMem(t, MinSize, outerPass, hidden)
		if hidden != "" {
			h := mustUnlock(t, m, hiddenPass)
			mustAdd(t, h, "secret", pseudo(10*payloadSize, 5))
		}
		o := mustUnlock(t, m, outerPass)
		if len(o.List()) != 0 || o.Hidden() {
			t.Fatalf("outer view changed: %v", o.List())
		}
		f, err := o.Free()
		if err != nil {
			t.Fatal(err)
		}
		frees = append(frees, f)
	}
	if frees[0] != frees[1] {
		t.Fatalf("outer free space %d without hidden, %d with", frees[0], frees[1])
	}
}

func TestUnlockBothChecksRoles(t *testing.T) {
	m := newMem(t, MinSize, outerPass, hiddenPass)
	other := newMem(t, MinSize, "other outer", "other hidden")
	for _, c := range []struct {
		m    *memStore
		o, h string
	}{
		{m, hiddenPass, outerPass}, // swapped
		{m, outerPass, outerPass},
		{m, outerPass, "wrong"},
		{m, "wrong", hiddenPass},
		{other, outerPass, hiddenPass}, // another container's pair
	} {
		if _, err := unlockBothMem(c.m, c.o, c.h); err != ErrNoVolume {
			t.Errorf("UnlockBoth(%q, %q) = %v, want ErrNoVolume", c.o, c.h, err)
		}
	}
	v, err := unlockBothMem(m, outerPass, hiddenPass)
	if err != nil || v.Hidden() {
		t.Fatalf("UnlockBoth: %v", err)
	}
}

// TestReadWhileWriting reads one file while others are added and removed.
func TestReadWhileWriting(t *testing.T) {
	m := newMem(t, MinSize, outerPass, "")
	v := mustUnlock(t, m, outerPass)
	data := pseudo(4*payloadSize+3, 1)
	mustAdd(t, v, "a", data)
	ra, size, err := v.Open("a")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			got := make([]byte, size)
			if n, err := ra.ReadAt(got, 0); n != len(got) || (err != nil && err != io.EOF) || !bytes.Equal(got, data) {
				t.Errorf("read during writes: %d, %v", n, err)
				return
			}
			if _, err := readAll(v, "a"); err != nil {
				t.Errorf("open during writes: %v", err)
				return
			}
		}
	})
	for i := range 10 {
		mustAdd(t, v, "b", pseudo(3*payloadSize, byte(i)))
		if i%3 == 0 {
			if err := v.Remove("b"); err != nil {
				t.Error(err)
			}
		}
		_ = v.List()
	}
	close(done)
	wg.Wait()
}

// TestCreateCancelled: an interrupted Create stops and leaves no file.
func TestCreateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "c.seal")
	if err := Create(ctx, path, MinSize, outerPass, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a cancelled context: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the container file was left behind: %v", err)
	}
}
