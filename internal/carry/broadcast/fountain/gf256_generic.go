//go:build !amd64 || fountain_purego

package fountain

// useAVX2 is false off amd64: the portable loops in gf256.go run instead.
const useAVX2 = false

func xorAVX2(dst, src []byte)                   { panic("fountain: internal error: no AVX2") }
func mulAddAVX2(dst, src []byte, tbl *[32]byte) { panic("fountain: internal error: no AVX2") }
func mulAVX2(dst, src []byte, tbl *[32]byte)    { panic("fountain: internal error: no AVX2") }

func xorMultiAVX2(dst []byte, srcs [][]byte) { panic("fountain: internal error: no AVX2") }

func mulAlphaXorAVX2(acc, src []byte) { panic("fountain: internal error: no AVX2") }

func xorProgAVX2(views [][]byte, prog []int32, n int) { panic("fountain: internal error: no AVX2") }

func hdpcStepAVX2(acc, src, r1, r2 []byte) { panic("fountain: internal error: no AVX2") }
