// Package seal keeps a library of archives in a sealed container: one file of a
// fixed size that, without a passphrase, cannot be told apart from random bytes.
//
// A container holds an outer (decoy) library and, optionally, a hidden library
// opened by a second passphrase. Nothing in the file says whether the hidden
// library exists: a wrong passphrase and an absent hidden library fail the same
// way ([ErrNoVolume]) after the same work. Contents are encrypted and
// authenticated in fixed-size blocks (XChaCha20-Poly1305), so any block can be
// read on its own and a damaged or altered block is reported, never returned.
//
// The byte layout, every key derivation and the known limits are specified in
// docs/seal.md.
//
// Typical use:
//
//	err := seal.Create("card.bin", 256<<20, outerPass, hiddenPass) // hiddenPass may be ""
//	v, err := seal.Unlock("card.bin", pass)   // either passphrase
//	defer v.Close()
//	err = v.Add("news-ko-42.ferry", f, size) // atomic
//	ra, size, err := v.Open("news-ko-42.ferry")
//
// To write to the outer library without risking the hidden one, open it with
// [UnlockBoth]; a hidden library opened with [Unlock] always protects the outer one.
package seal
