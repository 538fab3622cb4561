package seal

import (
	"bytes"
	"testing"
)

// chiSquare returns the byte-frequency chi-square statistic of b against
// the uniform distribution (255 degrees of freedom).
func chiSquare(b []byte) float64 {
	var n [256]int
	for _, c := range b {
		n[c]++
	}
	e := float64(len(b)) / 256
	var x float64
	for _, k := range n {
		d := float64(k) - e
		x += d * d / e
	}
	return x
}

// For 255 degrees of freedom the statistic has mean 255 and standard
// deviation about 22.6; 370 is beyond p = 1e-6, so a truly random file fails
// about once in a million runs, while any plaintext or zero padding fails by
// orders of magnitude.
const chiLimit = 370

// checkRandom fails when b (a whole container) shows structure: a skewed
// byte distribution overall or in any 1 MiB window, or any repeated aligned
// 16-byte block.
func checkRandom(t *testing.T, what string, b []byte) {
	t.Helper()
	if x := chiSquare(b); x > chiLimit {
		t.Errorf("%s: chi-square %.1f over the whole file", what, x)
	}
	for off := 0; off+1<<20 <= len(b); off += 1 << 20 {
		if x := chiSquare(b[off : off+1<<20]); x > chiLimit+30 { // 8+ windows: a looser bound
			t.Errorf("%s: chi-square %.1f in MiB %d", what, x, off>>20)
		}
	}
	seen := make(map[[16]byte]int, len(b)/16)
	for off := 0; off+16 <= len(b); off += 16 {
		k := [16]byte(b[off : off+16])
		if prev, ok := seen[k]; ok {
			t.Fatalf("%s: 16 bytes at %d repeat those at %d", what, off, prev)
		}
		seen[k] = off
	}
}

func TestSealedFileLooksRandom(t *testing.T) {
	files := ownFiles(t)
	m := newMem(t, 16<<20, outerPass, hiddenPass)
	checkRandom(t, "new container", m.b)

	o, err := unlockBothMem(m, outerPass, hiddenPass)
	if err != nil {
		t.Fatal(err)
	}
	h := mustUnlock(t, m, hiddenPass)
	mustAdd(t, o, "answers.json", files["answers.json"])
	mustAdd(t, o, "zeros", make([]byte, 3*payloadSize)) // worst case plaintext
	mustAdd(t, h, "book.epub", files["book.epub"])
	mustAdd(t, h, "same-zeros", make([]byte, 3*payloadSize))
	mustAdd(t, h, "law.txt", files["law.txt"])
	if err := o.Remove("zeros"); err != nil {
		t.Fatal(err)
	}
	checkRandom(t, "container with files", m.b)

	// The checks do catch structure: one plaintext block breaks them.
	bad := bytes.Clone(m.b)
	copy(bad[5*BlockSize:], files["answers.json"][:payloadSize])
	if x := chiSquare(bad[5*BlockSize : 6*BlockSize]); x < 10*chiLimit {
		t.Fatalf("chi-square of plaintext only %.1f: the test has no power", x)
	}
}
