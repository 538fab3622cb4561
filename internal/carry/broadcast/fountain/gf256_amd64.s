//go:build amd64 && !fountain_purego

#include "textflag.h"

// func xorAVX2(dst, src []byte)
TEXT ·xorAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $5, CX
	JZ   done
loop:
	VMOVDQU (SI), Y0
	VPXOR   (DI), Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
done:
	RET

// func mulAddAVX2(dst, src []byte, tbl *[32]byte)
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ tbl+48(FP), AX
	SHRQ $5, CX
	JZ   done
	VBROADCASTI128 (AX), Y4      // low-nibble products
	VBROADCASTI128 16(AX), Y5    // high-nibble products
	MOVQ $0x0f0f0f0f0f0f0f0f, BX
	VMOVQ BX, X6
	VPBROADCASTQ X6, Y6
loop:
	VMOVDQU (SI), Y0
	VPSRLQ  $4, Y0, Y1
	VPAND   Y6, Y0, Y0
	VPAND   Y6, Y1, Y1
	VPSHUFB Y0, Y4, Y2
	VPSHUFB Y1, Y5, Y3
	VPXOR   Y2, Y3, Y3
	VPXOR   (DI), Y3, Y3
	VMOVDQU Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loop
	VZEROUPPER
done:
	RET

// func mulAVX2(dst, src []byte, tbl *[32]byte)
TEXT ·mulAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ tbl+48(FP), AX
	SHRQ $5, CX
	JZ   mdone
	VBROADCASTI128 (AX), Y4
	VBROADCASTI128 16(AX), Y5
	MOVQ $0x0f0f0f0f0f0f0f0f, BX
	VMOVQ BX, X6
	VPBROADCASTQ X6, Y6
mloop:
	VMOVDQU (SI), Y0
	VPSRLQ  $4, Y0, Y1
	VPAND   Y6, Y0, Y0
	VPAND   Y6, Y1, Y1
	VPSHUFB Y0, Y4, Y2
	VPSHUFB Y1, Y5, Y3
	VPXOR   Y2, Y3, Y3
	VMOVDQU Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     mloop
	VZEROUPPER
mdone:
	RET

// func xorMultiAVX2(dst []byte, srcs [][]byte)
// dst = srcs[0] ^ srcs[1] ^ ... for the first len(dst)&^255 bytes, 256
// bytes at a time held in eight registers: each source is read once and
// dst written once. len(srcs) >= 1.
TEXT ·xorMultiAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ srcs_base+24(FP), SI
	MOVQ srcs_len+32(FP), DX
	SHRQ $8, CX
	JZ   xdone
	XORQ R8, R8
chunk:
	MOVQ    (SI), AX
	VMOVDQU 0(AX)(R8*1), Y0
	VMOVDQU 32(AX)(R8*1), Y1
	VMOVDQU 64(AX)(R8*1), Y2
	VMOVDQU 96(AX)(R8*1), Y3
	VMOVDQU 128(AX)(R8*1), Y4
	VMOVDQU 160(AX)(R8*1), Y5
	VMOVDQU 192(AX)(R8*1), Y6
	VMOVDQU 224(AX)(R8*1), Y7
	MOVQ    $1, R9
	LEAQ    24(SI), R10
next:
	CMPQ  R9, DX
	JAE   store
	MOVQ  (R10), AX
	VPXOR 0(AX)(R8*1), Y0, Y0
	VPXOR 32(AX)(R8*1), Y1, Y1
	VPXOR 64(AX)(R8*1), Y2, Y2
	VPXOR 96(AX)(R8*1), Y3, Y3
	VPXOR 128(AX)(R8*1), Y4, Y4
	VPXOR 160(AX)(R8*1), Y5, Y5
	VPXOR 192(AX)(R8*1), Y6, Y6
	VPXOR 224(AX)(R8*1), Y7, Y7
	ADDQ  $24, R10
	INCQ  R9
	JMP   next
store:
	VMOVDQU Y0, 0(DI)(R8*1)
	VMOVDQU Y1, 32(DI)(R8*1)
	VMOVDQU Y2, 64(DI)(R8*1)
	VMOVDQU Y3, 96(DI)(R8*1)
	VMOVDQU Y4, 128(DI)(R8*1)
	VMOVDQU Y5, 160(DI)(R8*1)
	VMOVDQU Y6, 192(DI)(R8*1)
	VMOVDQU Y7, 224(DI)(R8*1)
	ADDQ    $256, R8
	DECQ    CX
	JNZ     chunk
	VZEROUPPER
xdone:
	RET

// func mulAlphaXorAVX2(acc, src []byte)
// acc = alpha*acc ^ src for the first len(acc)&^31 bytes. Doubling adds
// each byte to itself; bytes whose top bit was set (negative as signed)
// are reduced by 0x1D.
TEXT ·mulAlphaXorAVX2(SB), NOSPLIT, $0-48
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	SHRQ $5, CX
	JZ   adone
	MOVQ $0x1d1d1d1d1d1d1d1d, BX
	VMOVQ BX, X6
	VPBROADCASTQ X6, Y6
	VPXOR Y7, Y7, Y7
aloop:
	VMOVDQU  (DI), Y0
	VPCMPGTB Y0, Y7, Y1
	VPAND    Y6, Y1, Y1
	VPADDB   Y0, Y0, Y0
	VPXOR    Y1, Y0, Y0
	VPXOR    (SI), Y0, Y0
	VMOVDQU  Y0, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DI
	DECQ     CX
	JNZ      aloop
	VZEROUPPER
adone:
	RET

// func xorProgAVX2(views [][]byte, prog []int32, n int)
// Each instruction of prog is dst, k, pf, src1..srck (indices into views):
// the first n bytes of views[dst] become the XOR of those of the sources
// (zero when k = 0), 256 bytes at a time in eight registers, then 32. If
// pf >= 0, views[pf] is prefetched first: a symbol a later instruction
// reads.
TEXT ·xorProgAVX2(SB), NOSPLIT, $0-56
	MOVQ views_base+0(FP), SI
	MOVQ prog_base+24(FP), BX
	MOVQ prog_len+32(FP), DX
	LEAQ (BX)(DX*4), DX
	MOVQ n+48(FP), R12
pinstr:
	CMPQ    BX, DX
	JAE     pdone
	MOVLQSX (BX), AX
	LEAQ    (AX)(AX*2), AX
	MOVQ    (SI)(AX*8), DI
	MOVLQSX 4(BX), CX
	MOVLQSX 8(BX), AX
	LEAQ    12(BX), R13
	LEAQ    (R13)(CX*4), BX
	XORQ    R8, R8
	TESTQ   AX, AX
	JS      pchunk
	LEAQ    (AX)(AX*2), AX
	MOVQ    (SI)(AX*8), AX
ppf:
	PREFETCHT0 (AX)(R8*1)
	ADDQ       $64, R8
	CMPQ       R8, R12
	JB         ppf
	XORQ       R8, R8
pchunk:
	LEAQ  256(R8), R9
	CMPQ  R9, R12
	JA    ptail
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ  R13, R10
psrc:
	CMPQ    R10, BX
	JAE     pstore
	MOVLQSX (R10), AX
	LEAQ    (AX)(AX*2), AX
	MOVQ    (SI)(AX*8), AX
	VPXOR   0(AX)(R8*1), Y0, Y0
	VPXOR   32(AX)(R8*1), Y1, Y1
	VPXOR   64(AX)(R8*1), Y2, Y2
	VPXOR   96(AX)(R8*1), Y3, Y3
	VPXOR   128(AX)(R8*1), Y4, Y4
	VPXOR   160(AX)(R8*1), Y5, Y5
	VPXOR   192(AX)(R8*1), Y6, Y6
	VPXOR   224(AX)(R8*1), Y7, Y7
	ADDQ    $4, R10
	JMP     psrc
pstore:
	VMOVDQU Y0, 0(DI)(R8*1)
	VMOVDQU Y1, 32(DI)(R8*1)
	VMOVDQU Y2, 64(DI)(R8*1)
	VMOVDQU Y3, 96(DI)(R8*1)
	VMOVDQU Y4, 128(DI)(R8*1)
	VMOVDQU Y5, 160(DI)(R8*1)
	VMOVDQU Y6, 192(DI)(R8*1)
	VMOVDQU Y7, 224(DI)(R8*1)
	MOVQ    R9, R8
	JMP     pchunk
ptail:
	LEAQ  32(R8), R9
	CMPQ  R9, R12
	JA    pinstr
	VPXOR Y0, Y0, Y0
	MOVQ  R13, R10
psrc32:
	CMPQ    R10, BX
	JAE     pstore32
	MOVLQSX (R10), AX
	LEAQ    (AX)(AX*2), AX
	MOVQ    (SI)(AX*8), AX
	VPXOR   (AX)(R8*1), Y0, Y0
	ADDQ    $4, R10
	JMP     psrc32
pstore32:
	VMOVDQU Y0, (DI)(R8*1)
	MOVQ    R9, R8
	JMP     ptail
pdone:
	VZEROUPPER
	RET

// func hdpcStepAVX2(acc, src, r1, r2 []byte)
// acc = alpha*acc ^ src (src empty: zero), r1 ^= acc, r2 ^= acc, for the
// first len(acc)&^31 bytes.
TEXT ·hdpcStepAVX2(SB), NOSPLIT, $0-96
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), DX
	MOVQ r1_base+48(FP), R8
	MOVQ r2_base+72(FP), R9
	SHRQ $5, CX
	JZ   hdone
	MOVQ $0x1d1d1d1d1d1d1d1d, BX
	VMOVQ BX, X6
	VPBROADCASTQ X6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ DX, DX
	JZ    hnosrc
hloop:
	VMOVDQU  (DI), Y0
	VPCMPGTB Y0, Y7, Y1
	VPAND    Y6, Y1, Y1
	VPADDB   Y0, Y0, Y0
	VPXOR    Y1, Y0, Y0
	VPXOR    (SI), Y0, Y0
	VMOVDQU  Y0, (DI)
	VPXOR    (R8), Y0, Y2
	VMOVDQU  Y2, (R8)
	VPXOR    (R9), Y0, Y3
	VMOVDQU  Y3, (R9)
	ADDQ     $32, SI
	ADDQ     $32, DI
	ADDQ     $32, R8
	ADDQ     $32, R9
	DECQ     CX
	JNZ      hloop
	VZEROUPPER
	RET
hnosrc:
	VMOVDQU  (DI), Y0
	VPCMPGTB Y0, Y7, Y1
	VPAND    Y6, Y1, Y1
	VPADDB   Y0, Y0, Y0
	VPXOR    Y1, Y0, Y0
	VMOVDQU  Y0, (DI)
	VPXOR    (R8), Y0, Y2
	VMOVDQU  Y2, (R8)
	VPXOR    (R9), Y0, Y3
	VMOVDQU  Y3, (R9)
	ADDQ     $32, DI
	ADDQ     $32, R8
	ADDQ     $32, R9
	DECQ     CX
	JNZ      hnosrc
	VZEROUPPER
hdone:
	RET
