// Package jsonscan reads JSON text without decoding it: whether text is
// valid JSON (encoding/json's verdict), where an object's members are, and
// the word-at-a-time primitives those scans are made of. It serves the hot
// reads: the RPC layer's oslo envelopes, which are mostly long strings,
// and the bank's index documents, a page of which a checkpoint listing
// reads. encoding/json's per-byte state machine read them several times
// slower.
package jsonscan

import "math/bits"

// PlainRun returns how many bytes at the start of s need no attention
// inside a JSON string: printable ASCII other than '"' and '\'. oslo's
// bodies are mostly such runs (the double-encoded message, tokens,
// catalog URLs), so they are measured eight bytes at a time.
func PlainRun[T ~string | ~[]byte](s T) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if m := SpecialBytes(LoadWord(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return i
}

// LoadWord is the little-endian word of the eight bytes of s at i; one
// 64-bit load, which the compiler combines once the first check proves the
// others in bounds.
func LoadWord[T ~string | ~[]byte](s T, i int) uint64 {
	w := s[i : i+8]
	_ = w[7]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// SpecialBytes flags (with its high bit) each byte of the little-endian
// word x that is a control character, '"', '\' or not ASCII. A borrow can
// flag a byte above a flagged one by mistake, never one below, so the
// lowest flag is exact.
func SpecialBytes(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	control := (x - ones*0x20) &^ x & highs
	q := x ^ ones*'"'
	quote := (q - ones) &^ q & highs
	b := x ^ ones*'\\'
	backslash := (b - ones) &^ b & highs
	return control | quote | backslash | x&highs
}
