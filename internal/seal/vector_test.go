package seal

import (
	"encoding/hex"
	"fmt"
	"testing"
)

// TestVector checks the key schedule against the vector printed in
// docs/seal.md ("Test vector"), with the production Argon2id parameters.
func TestVector(t *testing.T) {
	saved := kdfParams
	kdfParams.time, kdfParams.memKiB, kdfParams.threads = KDFTime, KDFMemoryKiB, KDFThreads
	defer func() { kdfParams = saved }()
	salt := make([]byte, saltSize)
	for i := range salt {
		salt[i] = byte(i)
	}
	k := newKeys(masterKey("봄날은 간다", salt))
	got := map[string]string{
		"master":     hex.EncodeToString(k.master[:]),
		"K_super":    hex.EncodeToString(derive(k.master, labelSuper, 32)),
		"K_data":     hex.EncodeToString(derive(k.master, labelData, 32)),
		"volID":      hex.EncodeToString(k.volID[:]),
		"candidates": fmt.Sprint(k.candidate),
	}
	want := map[string]string{
		"master":     "6ea31e60c79251fb303fbe777148deaa4aa94db3c83ff36a8fd86cb760117855",
		"K_super":    "3760ad11975bf519089bf2b6847565d3be68515e3d0ebbf0cf874101b52f19e4",
		"K_data":     "1fb51b9c46021e1a25edd85b624c4ac341755b9afc3d1241f6f36177bf31eabf",
		"volID":      "4593db799b3bfe64175a54f10538e131",
		"candidates": "[22 2 17 12]",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s = %s, want %s", name, got[name], w)
		}
	}
}
