//go:build amd64 && !fountain_purego

package fountain

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 kernels in gf256_amd64.s: 32 bytes per
// instruction for XOR, and the split-nibble multiply (two 16-entry tables
// looked up with VPSHUFB) for GF(256) products.
var useAVX2 = cpu.X86.HasAVX2

// xorAVX2 sets dst ^= src for the first len(src)&^31 bytes.
//
//go:noescape
func xorAVX2(dst, src []byte)

// mulAddAVX2 sets dst ^= c*src for the first len(src)&^31 bytes, where
// tbl holds c times each low nibble, then c times each high nibble.
//
//go:noescape
func mulAddAVX2(dst, src []byte, tbl *[32]byte)

// mulAVX2 sets dst = c*src for the first len(src)&^31 bytes (dst may be
// src), with tbl as for mulAddAVX2.
//
//go:noescape
func mulAVX2(dst, src []byte, tbl *[32]byte)

// xorMultiAVX2 sets dst to the XOR of all srcs (each at least len(dst)
// bytes) for the first len(dst)&^255 bytes; len(srcs) >= 1.
//
//go:noescape
func xorMultiAVX2(dst []byte, srcs [][]byte)

// mulAlphaXorAVX2 sets acc = alpha*acc ^ src for the first len(acc)&^31
// bytes.
//
//go:noescape
func mulAlphaXorAVX2(acc, src []byte)

// xorProgAVX2 runs the XOR program prog (see plan.compile) on the first n
// bytes of every symbol in views; n is a multiple of 32.
//
//go:noescape
func xorProgAVX2(views [][]byte, prog []int32, n int)

// hdpcStepAVX2 sets acc = alpha*acc ^ src (src empty means zero), r1 ^= acc
// and r2 ^= acc for the first len(acc)&^31 bytes.
//
//go:noescape
func hdpcStepAVX2(acc, src, r1, r2 []byte)
