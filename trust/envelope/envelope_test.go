package envelope

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

const topic = "ward/3/patient/17/hr"

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func testKey(t testing.TB, suite string, id uint32, sender uint16) *Key {
	t.Helper()
	s, err := aead.Lookup(suite, aead.Options{AllowInsecure: true})
	if err != nil {
		t.Fatal(err)
	}
	m := make([]byte, s.KeySize())
	for i := range m {
		m[i] = byte(i)
	}
	k, err := NewKey(id, s, m, sender, "patient-17", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type fixture struct {
	clk  *clock.Virtual
	ring *MemKeyring
	key  *Key
	s    *Sealer
	r    *Receiver
}

func newFixture(t testing.TB, suite string) *fixture {
	f := &fixture{clk: clock.NewVirtual(t0), ring: NewMemKeyring()}
	f.key = testKey(t, suite, 7, 0x11)
	f.ring.Add(f.key)
	f.s = NewSealer(f.key, f.clk)
	f.r = NewReceiver(ReceiverConfig{Keys: f.ring, Clock: f.clk, AllowInsecure: suite == aead.NamePaperXOR})
	return f
}

// TestGolden pins the envelope layout byte by byte (the AEAD itself is
// pinned by the Ascon KATs and the RFC 3610 vectors in trust/aead).
// Key 000102..0f, key id 7, sender 0x11, topic "ward/3/patient/17/hr".
func TestGolden(t *testing.T) {
	for _, tc := range []struct{ suite, env string }{
		{aead.NameAscon128, "" +
			"11" + // version 1 | suite 1 (ascon128)
			"00000007" + // key id 7
			"0011" + // sender 17
			"00000001" + // seq 1
			"cee51fc322" + // ciphertext of "HR=72"
			"2b2cbba68ada65f1a3d98a535cef8215"}, // 16-byte tag
		{aead.NameAES128CCM, "" +
			"12" + // version 1 | suite 2 (aes128-ccm8)
			"00000007" + "0011" + "00000001" +
			"e7cbcdc4e3" + // ciphertext
			"f1eebdad5aae24b0"}, // 8-byte tag
	} {
		f := newFixture(t, tc.suite)
		got, err := f.s.Seal(nil, topic, []byte("HR=72"))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.env {
			t.Fatalf("%s: sealed %x, want %s", tc.suite, got, tc.env)
		}
		want := Header{Version: 1, Suite: uint8(f.key.Suite.ID()), KeyID: 7, Sender: 0x11, Seq: 1}
		pt, h, err := f.r.Open(nil, topic, got)
		if err != nil || string(pt) != "HR=72" || h != want {
			t.Fatalf("%s: open = %q %+v %v", tc.suite, pt, h, err)
		}
		if len(got)-len("HR=72") != Overhead(f.key.Suite) || Overhead(f.key.Suite) != f.s.Overhead() {
			t.Fatalf("%s: overhead %d, Overhead() %d", tc.suite, len(got)-5, Overhead(f.key.Suite))
		}
	}
}

func TestOverheadBytes(t *testing.T) {
	for name, want := range map[string]int{aead.NameAscon128: 27, aead.NameAES128CCM: 19, aead.NamePaperXOR: 11} {
		s, _ := aead.Lookup(name, aead.Options{AllowInsecure: true})
		if got := Overhead(s); got != want {
			t.Errorf("%s: overhead %d, want %d", name, got, want)
		}
	}
}

func TestHeaderRoundTripAndTruncation(t *testing.T) {
	h := Header{Version: 1, Suite: 2, KeyID: 0xdeadbeef, Sender: 0xfffe, Seq: 0x01020304}
	b := AppendHeader(nil, h)
	if len(b) != HeaderLen {
		t.Fatalf("header is %d octets", len(b))
	}
	b = append(b, make([]byte, 8)...)
	got, rest, err := Parse(b, 8)
	if err != nil || got != h || len(rest) != 8 {
		t.Fatalf("Parse = %+v %d %v", got, len(rest), err)
	}
	for i := 0; i < len(b); i++ {
		_, _, err := Parse(b[:i], 8)
		if i < len(b) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %d: err = %v", i, err)
		}
	}
	for _, bad := range []Header{{Version: 2, Suite: 1, KeyID: 1, Sender: 1, Seq: 1},
		{Version: 1, Suite: 0, KeyID: 1, Sender: 1, Seq: 1}, {Version: 1, Suite: 1, KeyID: 0, Sender: 1, Seq: 1},
		{Version: 1, Suite: 1, KeyID: 1, Sender: 0, Seq: 1}, {Version: 1, Suite: 1, KeyID: 1, Sender: 1, Seq: 0}} {
		var pe *ParseError
		if _, _, err := Parse(AppendHeader(nil, bad), 0); !errors.As(err, &pe) {
			t.Fatalf("%+v accepted (%v)", bad, err)
		}
	}
}

func TestAttacks(t *testing.T) {
	for _, suite := range []string{aead.NameAscon128, aead.NameAES128CCM} {
		t.Run(suite, func(t *testing.T) {
			f := newFixture(t, suite)
			env, _ := f.s.Seal(nil, topic, []byte("SpO2=97"))
			if _, _, err := f.r.Open(nil, topic, env); err != nil {
				t.Fatal(err)
			}
			// Replay.
			if _, _, err := f.r.Open(nil, topic, env); !errors.Is(err, ErrReplay) {
				t.Fatalf("replay: err = %v", err)
			}
			// Bit flip: every single bit of the envelope.
			env2, _ := f.s.Seal(nil, topic, []byte("SpO2=96"))
			for i := 0; i < len(env2)*8; i++ {
				bad := bytes.Clone(env2)
				bad[i/8] ^= 1 << (i % 8)
				_, _, err := f.r.Open(nil, topic, bad)
				if err == nil {
					t.Fatalf("bit %d flipped: accepted", i)
				}
				// A flip in the key id names an unknown key, in the sender a
				// wrong sender, in seq a different nonce: all rejected.
				if Reason(err) == "other" || Reason(err) == "" {
					t.Fatalf("bit %d: uncategorised error %v", i, err)
				}
			}
			if _, _, err := f.r.Open(nil, topic, env2); err != nil {
				t.Fatalf("original after flips: %v", err)
			}
			// Wrong topic (the topic is associated data).
			env3, _ := f.s.Seal(nil, topic, []byte("T=36.9"))
			if _, _, err := f.r.Open(nil, "ward/3/patient/18/hr", env3); !errors.Is(err, ErrTampered) {
				t.Fatalf("wrong topic: err = %v", err)
			}
			// A rejected forgery must not burn the sequence number.
			if pt, _, err := f.r.Open(nil, topic, env3); err != nil || string(pt) != "T=36.9" {
				t.Fatalf("after wrong topic: %q %v", pt, err)
			}
			// Unknown key.
			other := testKey(t, suite, 99, 0x11)
			env4, _ := NewSealer(other, f.clk).Seal(nil, topic, []byte("x"))
			var re *RejectError
			if _, _, err := f.r.Open(nil, topic, env4); !errors.Is(err, ErrUnknownKey) || !errors.As(err, &re) || re.KeyID != 99 {
				t.Fatalf("unknown key: err = %v", err)
			}
			// Sender spoofing: the key belongs to 0x11; a header claiming
			// 0x12 is refused before decryption.
			h, sealed, _ := Parse(env3, 0)
			h.Sender, h.Seq = 0x12, 1000
			spoof := append(AppendHeader(nil, h), sealed...)
			if _, _, err := f.r.Open(nil, topic, spoof); !errors.Is(err, ErrWrongSender) {
				t.Fatalf("wrong sender: err = %v", err)
			}
			// Suite downgrade in the header.
			h, sealed, _ = Parse(env3, 0)
			h.Suite, h.Seq = uint8(aead.IDPaperXOR), 2000
			if _, _, err := f.r.Open(nil, topic, append(AppendHeader(nil, h), sealed...)); !errors.Is(err, ErrWrongSuite) {
				t.Fatalf("suite downgrade: err = %v", err)
			}
			// Truncated envelopes.
			for n := 0; n < len(env3); n++ {
				if _, _, err := f.r.Open(nil, topic, env3[:n]); err == nil {
					t.Fatalf("prefix %d accepted", n)
				}
			}
			// Expired key: the sealer refuses, and so does the receiver.
			env5, _ := f.s.Seal(nil, topic, []byte("late"))
			f.clk.Advance(time.Hour + time.Second)
			if _, err := f.s.Seal(nil, topic, []byte("x")); !errors.Is(err, ErrExpiredKey) {
				t.Fatalf("sealer after expiry: err = %v", err)
			}
			if _, _, err := f.r.Open(nil, topic, env5); !errors.Is(err, ErrExpiredKey) {
				t.Fatalf("expired key: err = %v", err)
			}
			// Wiped key.
			f.key.Wipe()
			if !f.key.Wiped() || f.key.Material() != nil {
				t.Fatal("key not wiped")
			}

			st := f.r.Stats()
			if st.Delivered != 3 || st.Replay == 0 || st.Tampered == 0 || st.UnknownKey == 0 ||
				st.WrongSender == 0 || st.WrongSuite == 0 || st.ExpiredKey != 1 || st.Malformed == 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestReplayWindowOutOfOrder(t *testing.T) {
	f := newFixture(t, aead.NameAscon128)
	var envs [][]byte
	for i := 0; i < 200; i++ {
		e, err := f.s.Seal(nil, topic, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	// Deliver 100 first, then 60..99 out of order: within the window.
	if _, _, err := f.r.Open(nil, topic, envs[99]); err != nil {
		t.Fatal(err)
	}
	for i := 98; i >= 99-WindowSize+1; i-- {
		if pt, _, err := f.r.Open(nil, topic, envs[i]); err != nil || pt[0] != byte(i) {
			t.Fatalf("seq %d in window: %v", i+1, err)
		}
	}
	// Seq 99-63 = 36 (index 35) is now out of the window: refused.
	if _, _, err := f.r.Open(nil, topic, envs[99-WindowSize]); !errors.Is(err, ErrReplay) {
		t.Fatalf("seq below window: err = %v", err)
	}
	// A jump far ahead, then the old top is too old.
	if _, _, err := f.r.Open(nil, topic, envs[199]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.r.Open(nil, topic, envs[100]); !errors.Is(err, ErrReplay) {
		t.Fatalf("after jump: err = %v", err)
	}
}

func TestWindow(t *testing.T) {
	var w Window
	if w.Check(0) {
		t.Fatal("seq 0 accepted")
	}
	seen := map[uint32]bool{}
	for _, s := range []uint32{5, 3, 4, 70, 7, 69, 6, 200, 137, 199, 136} {
		want := !seen[s] && (w.top < WindowSize || s > w.top-WindowSize)
		if got := w.Check(s); got != want {
			t.Fatalf("Check(%d) = %v, want %v (top %d)", s, got, want, w.top)
		}
		if want {
			w.Accept(s)
			seen[s] = true
		}
		if w.Check(s) {
			t.Fatalf("seq %d accepted twice", s)
		}
	}
}

func TestConcurrentDuplicatesDeliveredOnce(t *testing.T) {
	f := newFixture(t, aead.NameAscon128)
	env, _ := f.s.Seal(nil, topic, []byte("once"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := f.r.Open(nil, topic, env); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("delivered %d times", ok)
	}
}

func TestInsecureSuiteRefusedByDefault(t *testing.T) {
	f := newFixture(t, aead.NamePaperXOR)
	env, err := f.s.Seal(nil, topic, []byte("HR=72"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, _, err := f.r.Open(nil, topic, env); err != nil || string(pt) != "HR=72" {
		t.Fatalf("AllowInsecure receiver: %q %v", pt, err)
	}
	strict := NewReceiver(ReceiverConfig{Keys: f.ring, Clock: f.clk})
	env2, _ := f.s.Seal(nil, topic, []byte("HR=72"))
	if _, _, err := strict.Open(nil, topic, env2); !errors.Is(err, ErrWrongSuite) {
		t.Fatalf("strict receiver: err = %v", err)
	}
}

func TestKeyring(t *testing.T) {
	r := NewMemKeyring()
	a, b := testKey(t, aead.NameAscon128, 1, 1), testKey(t, aead.NameAscon128, 2, 1)
	b.NotAfter = t0
	r.Add(a)
	r.Add(b)
	if got := r.PruneExpired(t0.Add(time.Minute), 0); len(got) != 1 || got[0] != 2 || !b.Wiped() || a.Wiped() {
		t.Fatalf("prune: %v", got)
	}
	a2 := testKey(t, aead.NameAscon128, 1, 1)
	r.Add(a2)
	if !a.Wiped() || r.Key(1) != a2 {
		t.Fatal("replaced key not wiped")
	}
	r.WipeAll()
	if !a2.Wiped() || r.Len() != 0 {
		t.Fatal("WipeAll left keys")
	}
}

func TestLongTopic(t *testing.T) {
	f := newFixture(t, aead.NameAscon128)
	long := strings.Repeat("x", 1000)
	env, _ := f.s.Seal(nil, long, []byte("v"))
	if pt, _, err := f.r.Open(nil, long, env); err != nil || string(pt) != "v" {
		t.Fatalf("%q %v", pt, err)
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, suite := range aead.Names() {
		f := newFixture(t, suite)
		pt := make([]byte, 32)
		buf := make([]byte, 0, 128)
		out := make([]byte, 0, 128)
		t.Run(suite, func(t *testing.T) {
			testutil.AssertAllocs(t, 0, func() {
				env, err := f.s.Seal(buf[:0], topic, pt)
				if err != nil {
					panic(err)
				}
				if _, _, err := f.r.Open(out[:0], topic, env); err != nil {
					panic(err)
				}
			})
		})
	}
}

func BenchmarkEnvelope(b *testing.B) {
	for _, suite := range aead.Names() {
		for _, n := range []int{32, 64} {
			f := newFixture(b, suite)
			pt := make([]byte, n)
			buf := make([]byte, 0, 128)
			out := make([]byte, 0, 128)
			b.Run(fmt.Sprintf("%s/seal+open/%dB", suite, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					env, err := f.s.Seal(buf[:0], topic, pt)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := f.r.Open(out[:0], topic, env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
