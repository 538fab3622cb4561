package archive

import (
	"math/rand/v2"
	"testing"
)

// TestKeyIndex: keys added across many merges are all found with their
// values, and keys never added are not, as a Go map would say.
func TestKeyIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x keyIndex
	want := map[uint64]uint32{}
	for i := range 100_000 {
		k := r.Uint64() % 1_000_000 // repeats, which add must not see twice
		if i%7 == 0 {
			k = r.Uint64()
		}
		if _, ok := want[k]; ok {
			if _, ok := x.get(k); !ok {
				t.Fatalf("key %d added before is missing", k)
			}
			continue
		}
		if _, ok := x.get(k); ok {
			t.Fatalf("key %d found before it was added", k)
		}
		want[k] = uint32(i)
		x.add(k, uint32(i))
	}
	if len(x.keys) == 0 {
		t.Fatal("no merge happened")
	}
	for k, v := range want {
		if got, ok := x.get(k); !ok || got != v {
			t.Fatalf("key %d: got %d, %v; want %d", k, got, ok, v)
		}
	}
	for range 10_000 {
		k := 1_000_000 + r.Uint64()%1_000_000
		if _, in := want[k]; !in {
			if _, ok := x.get(k); ok {
				t.Fatalf("key %d found, never added", k)
			}
		}
	}
	for i := 1; i < len(x.keys); i++ {
		if x.keys[i-1] >= x.keys[i] {
			t.Fatalf("keys out of order at %d", i)
		}
	}
}
