package customers

import (
	"crypto/md5"
	"crypto/subtle"
	"strings"
)

// phpass is the "portable" hash of the Openwall PHP password hashing
// framework (WordPress, WooCommerce, phpBB3, older shops):
//
//	$P$ | one itoa64 char: log2 of the rounds | 8 salt chars | 22 chars of MD5
//
// $H$ is phpBB3's name for the same construction. No Go module in our
// registry list implements it, and it is twenty lines: hash = md5(salt ||
// password), then 2^n times hash = md5(hash || password). It is verified
// only, never written: a match is upgraded to argon2id at once.
const phpassItoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// phpassMaxLog2 bounds the rounds a stored hash may ask for. phpass writes
// 2^13 (`B`) by default and allows up to 2^30, which a corrupt or hostile
// row could use to burn a CPU for minutes per login.
const (
	phpassMinLog2 = 7
	phpassMaxLog2 = 18
)

func checkPHPass(stored string) error {
	if len(stored) != 34 || strings.Trim(stored[3:], phpassItoa64) != "" {
		return ErrUnknownHashFormat
	}
	if log2 := strings.IndexByte(phpassItoa64, stored[3]); log2 < phpassMinLog2 || log2 > phpassMaxLog2 {
		return ErrUnknownHashFormat
	}
	return nil
}

func verifyPHPass(stored, password string) (bool, error) {
	if err := checkPHPass(stored); err != nil {
		return false, err
	}
	log2 := strings.IndexByte(phpassItoa64, stored[3])
	salt := stored[4:12]
	sum := md5.Sum([]byte(salt + password))
	buf := make([]byte, 0, md5.Size+len(password))
	for range 1 << log2 {
		buf = append(append(buf[:0], sum[:]...), password...)
		sum = md5.Sum(buf)
	}
	got := stored[:12] + phpassEncode64(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1, nil
}

// phpassEncode64 is phpass's encode64: little-endian groups of 3 bytes,
// 6 bits at a time, least significant first.
func phpassEncode64(in []byte) string {
	var out strings.Builder
	for i := 0; i < len(in); i += 3 {
		v := uint(in[i])
		out.WriteByte(phpassItoa64[v&0x3f])
		if i+1 < len(in) {
			v |= uint(in[i+1]) << 8
		}
		out.WriteByte(phpassItoa64[(v>>6)&0x3f])
		if i+1 >= len(in) {
			break
		}
		if i+2 < len(in) {
			v |= uint(in[i+2]) << 16
		}
		out.WriteByte(phpassItoa64[(v>>12)&0x3f])
		if i+2 >= len(in) {
			break
		}
		out.WriteByte(phpassItoa64[(v>>18)&0x3f])
	}
	return out.String()
}
