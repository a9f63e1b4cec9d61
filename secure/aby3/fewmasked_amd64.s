//go:build amd64 && !purego

#include "textflag.h"

// Index vectors of the suffix sums: fewShiftS[j] = j + S (lanes j >= 32 - S are zeroed by
// the mask that goes with them), and the byte positions 0..63 of the rotation.
DATA fewShift1<>+0(SB)/8, $0x0004000300020001
DATA fewShift1<>+8(SB)/8, $0x0008000700060005
DATA fewShift1<>+16(SB)/8, $0x000c000b000a0009
DATA fewShift1<>+24(SB)/8, $0x0010000f000e000d
DATA fewShift1<>+32(SB)/8, $0x0014001300120011
DATA fewShift1<>+40(SB)/8, $0x0018001700160015
DATA fewShift1<>+48(SB)/8, $0x001c001b001a0019
DATA fewShift1<>+56(SB)/8, $0x001f001f001e001d
GLOBL fewShift1<>(SB), RODATA|NOPTR, $64

DATA fewShift2<>+0(SB)/8, $0x0005000400030002
DATA fewShift2<>+8(SB)/8, $0x0009000800070006
DATA fewShift2<>+16(SB)/8, $0x000d000c000b000a
DATA fewShift2<>+24(SB)/8, $0x00110010000f000e
DATA fewShift2<>+32(SB)/8, $0x0015001400130012
DATA fewShift2<>+40(SB)/8, $0x0019001800170016
DATA fewShift2<>+48(SB)/8, $0x001d001c001b001a
DATA fewShift2<>+56(SB)/8, $0x001f001f001f001e
GLOBL fewShift2<>(SB), RODATA|NOPTR, $64

DATA fewShift4<>+0(SB)/8, $0x0007000600050004
DATA fewShift4<>+8(SB)/8, $0x000b000a00090008
DATA fewShift4<>+16(SB)/8, $0x000f000e000d000c
DATA fewShift4<>+24(SB)/8, $0x0013001200110010
DATA fewShift4<>+32(SB)/8, $0x0017001600150014
DATA fewShift4<>+40(SB)/8, $0x001b001a00190018
DATA fewShift4<>+48(SB)/8, $0x001f001e001d001c
DATA fewShift4<>+56(SB)/8, $0x001f001f001f001f
GLOBL fewShift4<>(SB), RODATA|NOPTR, $64

DATA fewShift8<>+0(SB)/8, $0x000b000a00090008
DATA fewShift8<>+8(SB)/8, $0x000f000e000d000c
DATA fewShift8<>+16(SB)/8, $0x0013001200110010
DATA fewShift8<>+24(SB)/8, $0x0017001600150014
DATA fewShift8<>+32(SB)/8, $0x001b001a00190018
DATA fewShift8<>+40(SB)/8, $0x001f001e001d001c
DATA fewShift8<>+48(SB)/8, $0x001f001f001f001f
DATA fewShift8<>+56(SB)/8, $0x001f001f001f001f
GLOBL fewShift8<>(SB), RODATA|NOPTR, $64

DATA fewShift16<>+0(SB)/8, $0x0013001200110010
DATA fewShift16<>+8(SB)/8, $0x0017001600150014
DATA fewShift16<>+16(SB)/8, $0x001b001a00190018
DATA fewShift16<>+24(SB)/8, $0x001f001e001d001c
DATA fewShift16<>+32(SB)/8, $0x001f001f001f001f
DATA fewShift16<>+40(SB)/8, $0x001f001f001f001f
DATA fewShift16<>+48(SB)/8, $0x001f001f001f001f
DATA fewShift16<>+56(SB)/8, $0x001f001f001f001f
GLOBL fewShift16<>(SB), RODATA|NOPTR, $64

DATA fewIota<>+0(SB)/8, $0x0706050403020100
DATA fewIota<>+8(SB)/8, $0x0f0e0d0c0b0a0908
DATA fewIota<>+16(SB)/8, $0x1716151413121110
DATA fewIota<>+24(SB)/8, $0x1f1e1d1c1b1a1918
DATA fewIota<>+32(SB)/8, $0x2726252423222120
DATA fewIota<>+40(SB)/8, $0x2f2e2d2c2b2a2928
DATA fewIota<>+48(SB)/8, $0x3736353433323130
DATA fewIota<>+56(SB)/8, $0x3f3e3d3c3b3a3938
GLOBL fewIota<>(SB), RODATA|NOPTR, $64

// SHIFTADD adds to the 32 words of S (lo) and T (hi) the same words shifted down by the
// distance whose index vector is IDX and whose live lanes are MASK.
#define SHIFTADD(IDX, MASK) \
	VMOVDQU16 IDX<>(SB), Z12 \
	MOVL      $MASK, R10 \
	KMOVD     R10, K4 \
	VPERMW.Z  Z10, Z12, K4, Z13 \
	VPADDW    Z13, Z10, Z10 \
	VPERMW.Z  Z11, Z12, K4, Z13 \
	VPADDW    Z13, Z11, Z11

// MOD67 reduces the words of X (below 17,152) modulo 67: q = (X·978) >> 16 is floor(X/67)
// or one less, so X - 67q lies in [0, 134) and one masked subtraction ends it.
#define MOD67(X) \
	VPMULHUW Z22, X, Z12 \
	VPMULLW  Z23, Z12, Z12 \
	VPSUBW   Z12, X, X \
	VPCMPUW  $5, Z23, X, K5 \
	VPSUBW   Z23, X, K5, X

// func fewMasked64(o, sh, si, mi *byte, pub uint64, neg, c uint16, r uint8)
TEXT ·fewMasked64(SB), NOSPLIT, $0-45
	MOVQ    o+0(FP), DI
	MOVQ    sh+8(FP), SI
	MOVQ    si+16(FP), R8
	MOVQ    mi+24(FP), R9
	MOVQ    pub+32(FP), AX
	MOVWQZX neg+40(FP), BX
	MOVWQZX c+42(FP), DX
	MOVBQZX r+44(FP), CX

	VPBROADCASTW DX, Z20 // c
	MOVL         $8576, R10
	VPBROADCASTW R10, Z21 // bias = 67·128
	MOVL         $978, R10
	VPBROADCASTW R10, Z22 // floor(2^16 / 67)
	MOVL         $67, R10
	VPBROADCASTW R10, Z23
	VPBROADCASTW BX, Z24 // neg: 0, or all ones when flipped

	// The shares s_j of the 63 low bits (s_63 = 0), as words: positions 0..31 and 32..63.
	VPMOVZXBW  (SI), Z0
	MOVL       $0x7fffffff, R10
	KMOVD      R10, K1
	VMOVDQU8.Z 32(SI), K1, Y1
	VPMOVZXBW  Y1, Z1

	// The public bits w_j as lane masks.
	KMOVD AX, K2
	MOVQ  AX, R11
	SHRQ  $32, R11
	KMOVD R11, K3

	// e_j = c·w_j - s_j; d_j = e_j where w_j = 1, s_j where w_j = 0 (this party's share of
	// u_j XOR w_j).
	VPXORD    Z5, Z5, Z5
	VPSUBW    Z0, Z5, Z6
	VPSUBW    Z0, Z20, K2, Z6
	VPSUBW    Z1, Z5, Z7
	VPSUBW    Z1, Z20, K3, Z7
	VMOVDQU16 Z0, Z8
	VMOVDQU16 Z6, K2, Z8
	VMOVDQU16 Z1, Z9
	VMOVDQU16 Z7, K3, Z9

	// acc_j = sum of d_i over i > j: inclusive suffix sums within each half, the high half's
	// total added to the low half, less d_j.
	VMOVDQU16 Z8, Z10
	VMOVDQU16 Z9, Z11
	SHIFTADD(fewShift1, 0x7fffffff)
	SHIFTADD(fewShift2, 0x3fffffff)
	SHIFTADD(fewShift4, 0x0fffffff)
	SHIFTADD(fewShift8, 0x00ffffff)
	SHIFTADD(fewShift16, 0x0000ffff)
	VPBROADCASTW X11, Z13
	VPADDW       Z13, Z10, Z10
	VPSUBW       Z8, Z10, Z10
	VPSUBW       Z9, Z11, Z11

	// t_j = c + sign·e_j + acc_j + bias, sign·e = (e XOR neg) - neg; then t mod 67.
	VPXORD Z24, Z6, Z6
	VPSUBW Z24, Z6, Z6
	VPXORD Z24, Z7, Z7
	VPSUBW Z24, Z7, Z7
	VPADDW Z6, Z10, Z10
	VPADDW Z20, Z10, Z10
	VPADDW Z21, Z10, Z10
	VPADDW Z7, Z11, Z11
	VPADDW Z20, Z11, Z11
	VPADDW Z21, Z11, Z11
	MOD67(Z10)
	MOD67(Z11)

	// (s_j·t_j + m_j) mod 67, below 66·66 + 66 before the reduction.
	VPMOVZXBW (R8), Z14
	VPMOVZXBW 32(R8), Z15
	VPMOVZXBW (R9), Z16
	VPMOVZXBW 32(R9), Z17
	VPMULLW   Z14, Z10, Z10
	VPADDW    Z16, Z10, Z10
	VPMULLW   Z15, Z11, Z11
	VPADDW    Z17, Z11, Z11
	MOD67(Z10)
	MOD67(Z11)

	// Bytes, rotated: o[(j + r) mod 64] = value j, that is o[p] = value (p - r) mod 64.
	VPMOVWB      Z10, Y10
	VPMOVWB      Z11, Y11
	VINSERTI64X4 $1, Y11, Z10, Z10
	VPBROADCASTB CX, Z12
	VMOVDQU8     fewIota<>(SB), Z13
	VPSUBB       Z12, Z13, Z13
	MOVL         $63, R10
	VPBROADCASTB R10, Z14
	VPANDD       Z14, Z13, Z13
	VPERMB       Z10, Z13, Z13
	VMOVDQU8     Z13, (DI)
	VZEROUPPER
	RET

// func fewHasZero64(a, b *byte) bool
TEXT ·fewHasZero64(SB), NOSPLIT, $0-17
	MOVQ         a+0(FP), SI
	MOVQ         b+8(FP), DI
	VMOVDQU8     (SI), Z0
	VMOVDQU8     (DI), Z1
	VPADDB       Z1, Z0, Z0 // below 134: no byte wraps
	VPTESTNMB    Z0, Z0, K1 // sums of 0
	MOVL         $67, AX
	VPBROADCASTB AX, Z2
	VPCMPEQB     Z2, Z0, K2 // sums of 67
	KORQ         K1, K2, K3
	KORTESTQ     K3, K3
	SETNE        ret+16(FP)
	VZEROUPPER
	RET
