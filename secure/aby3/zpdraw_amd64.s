//go:build amd64 && !purego

#include "textflag.h"

// func zpCompress(dst, src []byte, limit, m, add byte) (written, consumed int)
TEXT ·zpCompress(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), R9
	MOVBQZX limit+48(FP), AX
	VPBROADCASTB AX, Z10
	MOVBQZX m+49(FP), AX
	VPBROADCASTB AX, Z11
	MOVBQZX add+50(FP), AX
	VPBROADCASTB AX, Z12
	XORQ R10, R10 // bytes written
	XORQ R11, R11 // bytes read

block:
	LEAQ 64(R11), AX
	CMPQ AX, R9
	JA   done
	VMOVDQU8 (SI)(R11*1), Z0
	VPCMPUB  $1, Z10, Z0, K1 // K1: the bytes below limit
	KMOVQ    K1, BX
	POPCNTQ  BX, CX
	LEAQ     (R10)(CX*1), DX
	CMPQ     DX, R8
	JAE      done            // this block would fill dst: the scalar loop takes it
	VPCMPUB  $5, Z11, Z0, K2 // v >= m
	VPSUBB   Z11, Z0, K2, Z0
	VPCMPUB  $5, Z11, Z0, K2 // v - m >= m
	VPSUBB   Z11, Z0, K2, Z0
	VPADDB   Z12, Z0, Z0
	VPCOMPRESSB.Z Z0, K1, Z1
	MOVQ     $-1, BX
	BZHIQ    CX, BX, BX      // the low CX bits
	KMOVQ    BX, K3
	VMOVDQU8 Z1, K3, (DI)(R10*1)
	MOVQ     DX, R10
	MOVQ     AX, R11
	JMP      block

done:
	VZEROUPPER
	MOVQ R10, written+56(FP)
	MOVQ R11, consumed+64(FP)
	RET
