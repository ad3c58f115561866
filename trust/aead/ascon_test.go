package aead

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

type katVector struct {
	count                  int
	key, nonce, pt, ad, ct []byte
}

// readKAT parses the LWC KAT format (Count/Key/Nonce/PT/AD/CT blocks).
func readKAT(t *testing.T, path string) []katVector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []katVector
	var v katVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("bad KAT line %q", line)
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if k == "Count" {
			n, err := strconv.Atoi(val)
			if err != nil {
				t.Fatal(err)
			}
			v = katVector{count: n}
			continue
		}
		b, err := hex.DecodeString(val)
		if err != nil {
			t.Fatalf("count %d %s: %v", v.count, k, err)
		}
		switch k {
		case "Key":
			v.key = b
		case "Nonce":
			v.nonce = b
		case "PT":
			v.pt = b
		case "AD":
			v.ad = b
		case "CT":
			v.ct = b
			out = append(out, v)
		default:
			t.Fatalf("unknown KAT field %q", k)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAsconKAT checks every known-answer test of NIST SP 800-232
// Ascon-AEAD128, both directions, and that every single-bit change of the
// ciphertext, tag, nonce or associated data of a sample of them is rejected.
func TestAsconKAT(t *testing.T) {
	vs := readKAT(t, "testdata/LWC_AEAD_KAT_128_128.txt")
	if len(vs) != 1089 {
		t.Fatalf("parsed %d vectors, want 1089", len(vs))
	}
	s, err := Lookup(NameAscon128, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		a, err := s.New(v.key)
		if err != nil {
			t.Fatal(err)
		}
		got := a.Seal(nil, v.nonce, v.pt, v.ad)
		if !bytes.Equal(got, v.ct) {
			t.Fatalf("Count %d: Seal = %X, want %X", v.count, got, v.ct)
		}
		pt, err := a.Open(nil, v.nonce, v.ct, v.ad)
		if err != nil || !bytes.Equal(pt, v.pt) {
			t.Fatalf("Count %d: Open = %X, %v; want %X", v.count, pt, err, v.pt)
		}
		// In place, as the envelope does it.
		buf := append([]byte(nil), v.pt...)
		buf = append(buf, make([]byte, AsconTagSize)...)
		sealed := a.Seal(buf[:0], v.nonce, buf[:len(v.pt)], v.ad)
		if !bytes.Equal(sealed, v.ct) {
			t.Fatalf("Count %d: in-place Seal = %X, want %X", v.count, sealed, v.ct)
		}
		opened, err := a.Open(sealed[:0], v.nonce, sealed, v.ad)
		if err != nil || !bytes.Equal(opened, v.pt) {
			t.Fatalf("Count %d: in-place Open = %X, %v", v.count, opened, err)
		}
		if v.count%37 == 0 {
			checkTamper(t, a, v)
		}
	}
}

func checkTamper(t *testing.T, a interface {
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
}, v katVector) {
	t.Helper()
	for i := 0; i < len(v.ct)*8; i++ {
		ct := bytes.Clone(v.ct)
		ct[i/8] ^= 1 << (i % 8)
		if _, err := a.Open(nil, v.nonce, ct, v.ad); !errors.Is(err, ErrOpen) {
			t.Fatalf("Count %d: ciphertext bit %d flipped: err = %v, want ErrOpen", v.count, i, err)
		}
	}
	for i := 0; i < len(v.nonce)*8; i++ {
		n := bytes.Clone(v.nonce)
		n[i/8] ^= 1 << (i % 8)
		if _, err := a.Open(nil, n, v.ct, v.ad); !errors.Is(err, ErrOpen) {
			t.Fatalf("Count %d: nonce bit %d flipped: err = %v", v.count, i, err)
		}
	}
	for i := 0; i < len(v.ad)*8; i++ {
		ad := bytes.Clone(v.ad)
		ad[i/8] ^= 1 << (i % 8)
		if _, err := a.Open(nil, v.nonce, v.ct, ad); !errors.Is(err, ErrOpen) {
			t.Fatalf("Count %d: ad bit %d flipped: err = %v", v.count, i, err)
		}
	}
	if _, err := a.Open(nil, v.nonce, v.ct, append(bytes.Clone(v.ad), 0)); !errors.Is(err, ErrOpen) {
		t.Fatalf("Count %d: ad extended: err = %v", v.count, err)
	}
	if _, err := a.Open(nil, v.nonce, v.ct[:len(v.ct)-1], v.ad); !errors.Is(err, ErrOpen) {
		t.Fatalf("Count %d: truncated: err = %v", v.count, err)
	}
}

func TestAsconOpenFailureWipesOutput(t *testing.T) {
	s, _ := Lookup(NameAscon128, Options{})
	a, _ := s.New(make([]byte, 16))
	nonce := make([]byte, 16)
	pt := []byte("heart rate 72 bpm, SpO2 98 %")
	ct := a.Seal(nil, nonce, pt, nil)
	ct[0] ^= 1
	dst := make([]byte, 0, 64)
	if _, err := a.Open(dst, nonce, ct, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("err = %v", err)
	}
	if !bytes.Equal(dst[:len(pt)], make([]byte, len(pt))) {
		t.Fatalf("unauthenticated plaintext left in dst: %q", dst[:len(pt)])
	}
	if _, err := a.Open(nil, nonce, ct[:AsconTagSize-1], nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("short input: err = %v", err)
	}
}
