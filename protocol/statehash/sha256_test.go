package statehash

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// checkDigest fails unless digest gives crypto/sha256's hash of data,
// written in the pieces cut gives, and resumes from a state saved at any
// point as crypto/sha256 does.
func checkDigest(t *testing.T, data []byte, cut []int) {
	t.Helper()
	want := sha256.Sum256(data)
	d := newDigest()
	rest := data
	for _, n := range cut {
		n = min(n, len(rest))
		d.Write(rest[:n])
		rest = rest[n:]
	}
	d.Write(rest)
	if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("%d bytes in pieces %v: %x, want %x", len(data), cut, got, want)
	}
	if got := d.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatal("Sum changed the digest")
	}
	// Save after a prefix, in both implementations, and swap the states.
	at := len(data) / 3
	ours, std := newDigest(), sha256.New()
	ours.Write(data[:at])
	std.Write(data[:at])
	a, _ := ours.AppendBinary(nil)
	b, _ := std.(interface{ AppendBinary([]byte) ([]byte, error) }).AppendBinary(nil)
	if !bytes.Equal(a, b) {
		t.Fatalf("saved state after %d bytes differs from crypto/sha256's", at)
	}
	resumed := newDigest()
	if err := resumed.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	resumed.Write(data[at:])
	if got := resumed.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("resumed after %d of %d bytes: %x, want %x", at, len(data), got, want)
	}
}

func TestDigest_MatchesCryptoSHA256(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 1100 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		checkDigest(t, data, []int{r.IntN(70), r.IntN(130), 1, 63, 64, 65})
	}
	d := newDigest()
	if err := d.UnmarshalBinary([]byte("sha\x03short")); err == nil {
		t.Error("a truncated state was accepted")
	}
	if d.Size() != Size || d.BlockSize() != 64 {
		t.Error("sizes")
	}
}

func FuzzDigest(f *testing.F) {
	f.Add([]byte("abc"), uint8(1), uint8(2))
	f.Add(bytes.Repeat([]byte{0xff}, 200), uint8(55), uint8(64))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		checkDigest(t, data, []int{int(a), int(b)})
	})
}
