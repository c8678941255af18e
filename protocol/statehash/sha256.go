package statehash

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// digest is SHA-256 (FIPS 180-4) written for WebAssembly, where the apply
// loop spends a third of a small diff in SHA-256: the standard library's
// portable block function (what crypto/sha256 runs without SHA
// instructions) interleaves the message schedule with the rounds behind a
// branch and bounds checks, and runs at about 55 MB/s in Chromium; this one
// computes the schedule first and unrolls four rounds per step, about
// 100 MB/s. On other platforms crypto/sha256 (with SHA-NI or ARMv8 SHA
// instructions) is used instead (newSHA256). Both are held to the same
// bytes by TestDigest_MatchesCryptoSHA256 and FuzzDigest, on every platform.
//
// Its saved state has crypto/sha256's binary form, so Hasher saves and
// resumes either in the same way.
type digest struct {
	h   [8]uint32
	x   [64]byte
	nx  int
	len uint64
}

const (
	digestMagic = "sha\x03"
	blockSize   = 64
)

var digestIV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

func newDigest() *digest {
	d := new(digest)
	d.Reset()
	return d
}

func (d *digest) Reset() {
	d.h, d.nx, d.len = digestIV, 0, 0
}

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return blockSize }

func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nx > 0 {
		c := copy(d.x[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx < blockSize {
			return n, nil
		}
		block(&d.h, d.x[:])
		d.nx = 0
	}
	if full := len(p) &^ (blockSize - 1); full > 0 {
		block(&d.h, p[:full])
		p = p[full:]
	}
	d.nx = copy(d.x[:], p)
	return n, nil
}

// Sum appends the hash of what was written to b, leaving d as it was.
func (d *digest) Sum(b []byte) []byte {
	h, x, nx := d.h, d.x, d.nx
	x[nx] = 0x80
	clear(x[nx+1:])
	if nx >= blockSize-8 {
		block(&h, x[:])
		clear(x[:])
	}
	binary.BigEndian.PutUint64(x[blockSize-8:], d.len<<3)
	block(&h, x[:])
	for _, v := range h {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// AppendBinary appends d's state in crypto/sha256's form: magic, chaining
// value, block buffer, length.
func (d *digest) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, digestMagic...)
	for _, v := range d.h {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	b = append(b, d.x[:d.nx]...)
	b = append(b, make([]byte, blockSize-d.nx)...)
	return binary.BigEndian.AppendUint64(b, d.len), nil
}

// UnmarshalBinary restores a state AppendBinary (or crypto/sha256) saved.
func (d *digest) UnmarshalBinary(b []byte) error {
	if len(b) != len(digestMagic)+32+blockSize+8 || string(b[:len(digestMagic)]) != digestMagic {
		return errors.New("statehash: invalid SHA-256 state")
	}
	b = b[len(digestMagic):]
	for i := range d.h {
		d.h[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	b = b[32:]
	copy(d.x[:], b[:blockSize])
	d.len = binary.BigEndian.Uint64(b[blockSize:])
	d.nx = int(d.len % blockSize)
	return nil
}

var roundK = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// block hashes whole 64-byte blocks of p into h.
func block(h *[8]uint32, p []byte) {
	var w [64]uint32
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for len(p) >= blockSize {
		q := p[:blockSize:blockSize]
		for i := range 16 {
			w[i] = binary.BigEndian.Uint32(q[4*i:])
		}
		for i := 16; i < 64; i++ {
			v1, v2 := w[i-2], w[i-15]
			w[i] = (bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ v1>>10) + w[i-7] +
				(bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ v2>>3) + w[i-16]
		}
		a, b, c, d, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		// Four rounds per step, the variables' roles rotating by four
		// instead of shifting the eight values every round.
		for i := 0; i < 64; i += 4 {
			t1 := hh + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + (g ^ (e & (f ^ g))) + roundK[i] + w[i]
			t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + ((a & b) | (c & (a | b)))
			d += t1
			hh = t1 + t2
			t1 = g + (bits.RotateLeft32(d, -6) ^ bits.RotateLeft32(d, -11) ^ bits.RotateLeft32(d, -25)) + (f ^ (d & (e ^ f))) + roundK[i+1] + w[i+1]
			t2 = (bits.RotateLeft32(hh, -2) ^ bits.RotateLeft32(hh, -13) ^ bits.RotateLeft32(hh, -22)) + ((hh & a) | (b & (hh | a)))
			c += t1
			g = t1 + t2
			t1 = f + (bits.RotateLeft32(c, -6) ^ bits.RotateLeft32(c, -11) ^ bits.RotateLeft32(c, -25)) + (e ^ (c & (d ^ e))) + roundK[i+2] + w[i+2]
			t2 = (bits.RotateLeft32(g, -2) ^ bits.RotateLeft32(g, -13) ^ bits.RotateLeft32(g, -22)) + ((g & hh) | (a & (g | hh)))
			b += t1
			f = t1 + t2
			t1 = e + (bits.RotateLeft32(b, -6) ^ bits.RotateLeft32(b, -11) ^ bits.RotateLeft32(b, -25)) + (d ^ (b & (c ^ d))) + roundK[i+3] + w[i+3]
			t2 = (bits.RotateLeft32(f, -2) ^ bits.RotateLeft32(f, -13) ^ bits.RotateLeft32(f, -22)) + ((f & g) | (hh & (f | g)))
			a += t1
			e = t1 + t2
			a, b, c, d, e, f, g, hh = e, f, g, hh, a, b, c, d
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += d
		h4 += e
		h5 += f
		h6 += g
		h7 += hh
		p = p[blockSize:]
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = h0, h1, h2, h3, h4, h5, h6, h7
}
