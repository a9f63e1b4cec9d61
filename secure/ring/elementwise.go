package ring

// AddTo sets dst[i] = a[i] + b[i] mod 2^64.
func AddTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// SubTo sets dst[i] = a[i] - b[i] mod 2^64.
func SubTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

// NegTo sets dst[i] = -a[i] mod 2^64.
func NegTo(dst, a []uint64) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = -a[i]
	}
}

// MulTo sets dst[i] = a[i] * b[i] mod 2^64.
func MulTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// MulAddTo sets dst[i] += a[i] * b[i] mod 2^64.
func MulAddTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] += a[i] * b[i]
	}
}

// ScaleTo sets dst[i] = c * a[i] mod 2^64.
func ScaleTo(dst, a []uint64, c uint64) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = c * a[i]
	}
}

// AddScalarTo sets dst[i] = a[i] + c mod 2^64.
func AddScalarTo(dst, a []uint64, c uint64) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + c
	}
}

// XorTo sets dst[i] = a[i] ^ b[i].
func XorTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] ^ b[i]
	}
}

// AndTo sets dst[i] = a[i] & b[i].
func AndTo(dst, a, b []uint64) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] & b[i]
	}
}

// ShiftRightArithTo sets dst[i] = int64(a[i]) >> s, the arithmetic (sign-extending) shift.
func ShiftRightArithTo(dst, a []uint64, s uint) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = uint64(int64(a[i]) >> s)
	}
}

// ShiftRightTo sets dst[i] = a[i] >> s, the logical shift.
func ShiftRightTo(dst, a []uint64, s uint) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] >> s
	}
}

// ShiftLeftTo sets dst[i] = a[i] << s.
func ShiftLeftTo(dst, a []uint64, s uint) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] << s
	}
}
