package peer

import (
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/corpus"
)

// TestReproducibleCodecs: the giver finds that its archive's compressed
// clusters can be made again byte for byte, and whether the writer packed
// Korean text (codec 3), which the taker must then do too.
func TestReproducibleCodecs(t *testing.T) {
	_, arch := site(t, corpus.Options{Pages: 60, Seed: 5}, "news", 1)
	path := filepath.Join(t.TempDir(), "a.ferry")
	if err := os.WriteFile(path, arch, 0o600); err != nil {
		t.Fatal(err)
	}
	la, err := openLocal(path, false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	codecs := map[byte]int{}
	for _, c := range la.Lay.Clusters {
		var b [1]byte
		if _, err := f.ReadAt(b[:], c.Off); err != nil {
			t.Fatal(err)
		}
		codecs[b[0]]++
	}
	a := &gArchive{la: la, f: f}
	ok, hangul := a.zstdReproducible()
	t.Logf("cluster codecs %v; reproducible %v, hangul %v", codecs, ok, hangul)
	if !ok {
		t.Errorf("the packer's clusters are not reproducible with archive.CompressCluster")
	}
	if hangul != (codecs[codecZstdHangul] > 0) {
		t.Errorf("hangul = %v with %d codec-3 clusters", hangul, codecs[codecZstdHangul])
	}
}
