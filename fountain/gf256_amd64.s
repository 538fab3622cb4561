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
	MOVQ BX, X6
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
