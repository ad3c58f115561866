package aead

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

func TestLookup(t *testing.T) {
	for _, name := range Names() {
		s, err := Lookup(name, Options{AllowInsecure: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byID, err := ByID(s.ID(), Options{AllowInsecure: true})
		if err != nil || byID != s {
			t.Fatalf("%s: ByID(%d) = %v, %v", name, s.ID(), byID, err)
		}
		a, err := s.New(make([]byte, s.KeySize()))
		if err != nil {
			t.Fatal(err)
		}
		if a.NonceSize() != s.NonceSize() || a.Overhead() != s.TagSize() {
			t.Fatalf("%s: AEAD sizes %d/%d disagree with suite %d/%d", name,
				a.NonceSize(), a.Overhead(), s.NonceSize(), s.TagSize())
		}
		var kse *KeySizeError
		if _, err := s.New(make([]byte, s.KeySize()+1)); !errors.As(err, &kse) {
			t.Fatalf("%s: long key: err = %v", name, err)
		}
	}
	if _, err := Lookup("rot13", Options{AllowInsecure: true}); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := ByID(9, Options{}); !errors.Is(err, ErrUnknownSuite) {
		t.Fatalf("unknown id: %v", err)
	}
	if d, err := Lookup(Default, Options{}); err != nil || d.Insecure() {
		t.Fatalf("default suite %v, %v", d, err)
	}
}

// TestRoundTripAllLengths seals and opens every length 0..80 with and
// without associated data, appending after existing bytes in dst.
func TestRoundTripAllLengths(t *testing.T) {
	for _, name := range Names() {
		s, _ := Lookup(name, Options{AllowInsecure: true})
		key := bytes.Repeat([]byte{0x5a}, s.KeySize())
		a, _ := s.New(key)
		nonce := bytes.Repeat([]byte{3}, s.NonceSize())
		for n := 0; n <= 80; n++ {
			pt := bytes.Repeat([]byte{byte(n)}, n)
			for _, ad := range [][]byte{nil, []byte("ward/3/patient/17/hr")} {
				prefix := []byte("hdr")
				ct := a.Seal(bytes.Clone(prefix), nonce, pt, ad)
				if len(ct) != len(prefix)+n+s.TagSize() || !bytes.Equal(ct[:3], prefix) {
					t.Fatalf("%s n=%d: sealed length %d", name, n, len(ct))
				}
				back, err := a.Open([]byte("p"), nonce, ct[3:], ad)
				if err != nil || !bytes.Equal(back[1:], pt) || back[0] != 'p' {
					t.Fatalf("%s n=%d: open %x, %v", name, n, back, err)
				}
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, name := range Names() {
		s, _ := Lookup(name, Options{AllowInsecure: true})
		a, _ := s.New(make([]byte, s.KeySize()))
		nonce := make([]byte, s.NonceSize())
		pt := make([]byte, 64)
		ad := []byte("ward/3/patient/17/hr")
		buf := make([]byte, 0, 128)
		out := make([]byte, 0, 128)
		ct := a.Seal(nil, nonce, pt, ad)
		t.Run(name, func(t *testing.T) {
			testutil.AssertAllocs(t, 0, func() {
				a.Seal(buf[:0], nonce, pt, ad)
				if _, err := a.Open(out[:0], nonce, ct, ad); err != nil {
					panic(err)
				}
			})
		})
	}
}

func BenchmarkSuites(b *testing.B) {
	for _, name := range Names() {
		s, _ := Lookup(name, Options{AllowInsecure: true})
		a, _ := s.New(make([]byte, s.KeySize()))
		nonce := make([]byte, s.NonceSize())
		ad := []byte("ward/3/patient/17/hr")
		for _, n := range []int{32, 64} {
			pt := make([]byte, n)
			buf := make([]byte, 0, n+s.TagSize())
			ct := a.Seal(nil, nonce, pt, ad)
			out := make([]byte, 0, n)
			b.Run(fmt.Sprintf("%s/seal/%dB", name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					a.Seal(buf[:0], nonce, pt, ad)
				}
			})
			b.Run(fmt.Sprintf("%s/open/%dB", name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := a.Open(out[:0], nonce, ct, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
