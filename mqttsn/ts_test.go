package mqttsn

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func hexJoin(parts ...string) []byte {
	b, err := hex.DecodeString(strings.Join(parts, ""))
	if err != nil {
		panic(err)
	}
	return b
}

type tsGolden struct {
	name string
	msg  Message
	b    []byte
}

// tsGoldens are the TS extension messages byte by byte.
func tsGoldens() []tsGolden {
	return []tsGolden{
		{"ts keyreq new", &TSKeyRequest{Suite: 1, Nonce: seq(0x10, 16), Name: []byte("z1-7"),
			Group: []byte("patient-17"), MAC: seq(0xA0, 16)}, hexJoin(
			"38", "a0", // Length 56, MsgType TS-KEYREQ
			"00",                               // Flags: new key
			"01",                               // Suite 1 (ascon128)
			"00000000",                         // KeyID 0
			"101112131415161718191a1b1c1d1e1f", // Nonce
			"04", "7a312d37",                   // Name "z1-7"
			"0a", "70617469656e742d3137", // Group "patient-17"
			"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")}, // MAC
		{"ts keyreq fetch", &TSKeyRequest{Fetch: true, KeyID: 0x01020304, Nonce: seq(0x10, 16),
			Name: []byte("dr-who"), Group: []byte("p1"), MAC: seq(0xA0, 16)}, hexJoin(
			"32", "a0", "01", "00", "01020304", "101112131415161718191a1b1c1d1e1f",
			"06", "64722d77686f", "02", "7031", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")},
		{"ts keyresp ok", &TSKeyResponse{Status: TSOK, Suite: 1, KeyID: 9, Sender: 0x11, NotAfter: 0x68000000,
			ReqNonce: seq(0x10, 16), TSNonce: seq(0x30, 16), Name: []byte("z1-7"), Group: []byte("p1"),
			Sealed: seq(0xC0, 32)}, hexJoin(
			"57", "a1", // Length 87, MsgType TS-KEYRESP
			"00", "00", "01", // Status ok, Flags, Suite
			"00000009",                         // KeyID
			"0011",                             // Sender
			"68000000",                         // NotAfter
			"101112131415161718191a1b1c1d1e1f", // ReqNonce
			"303132333435363738393a3b3c3d3e3f", // TSNonce
			"04", "7a312d37", "02", "7031",
			"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf")}, // wrapped key + tag
		{"ts keyresp refused unauthenticated", &TSKeyResponse{Status: TSUnknown, ReqNonce: seq(0x10, 16),
			TSNonce: seq(0x30, 16), Name: []byte("x"), Group: []byte("g")}, hexJoin(
			"33", "a1", "01", "00", "00", "00000000", "0000", "00000000",
			"101112131415161718191a1b1c1d1e1f", "303132333435363738393a3b3c3d3e3f", "01", "78", "01", "67")},
		{"ts challenge", &TSChallenge{Challenge: seq(0x50, 16), Gateway: []byte("gw-ward3")}, hexJoin(
			"1b", "a2", "505152535455565758595a5b5c5d5e5f", "08", "67772d7761726433")},
		{"ts proof", &TSProof{Challenge: seq(0x50, 16), Proof: seq(0x70, 16)}, hexJoin(
			"22", "a3", "505152535455565758595a5b5c5d5e5f", "707172737475767778797a7b7c7d7e7f")},
		{"ts admitreq", &TSAdmitRequest{Challenge: seq(0x50, 16), Proof: seq(0x70, 16), Gateway: []byte("gw"),
			ClientID: []byte("z1-7"), MAC: seq(0x90, 16)}, hexJoin(
			"3a", "a4", "505152535455565758595a5b5c5d5e5f", "707172737475767778797a7b7c7d7e7f",
			"02", "6777", "04", "7a312d37", "909192939495969798999a9b9c9d9e9f")},
		{"ts admitresp", &TSAdmitResponse{Status: TSOK, Sender: 0x11, Challenge: seq(0x50, 16),
			ClientID: []byte("z1-7"), Group: []byte("p1"), MAC: seq(0x90, 16)}, hexJoin(
			"2d", "a5", "00", "0011", "505152535455565758595a5b5c5d5e5f", "04", "7a312d37", "02", "7031",
			"909192939495969798999a9b9c9d9e9f")},
	}
}

func TestTSGolden(t *testing.T) {
	for _, g := range tsGoldens() {
		t.Run(g.name, func(t *testing.T) {
			if g.msg.Len() != len(g.b) {
				t.Fatalf("Len() = %d, want %d", g.msg.Len(), len(g.b))
			}
			b, err := g.msg.AppendBinary(nil)
			if err != nil || !bytes.Equal(b, g.b) {
				t.Fatalf("encoded % x (%v)\nwant    % x", b, err, g.b)
			}
			m, n, err := Decode(g.b)
			if err != nil || n != len(g.b) || !equalFields(m, g.msg) {
				t.Fatalf("Decode = %#v, %d, %v", m, n, err)
			}
			if !g.msg.Type().IsExtension() || !strings.HasPrefix(g.msg.Type().String(), "TS-") {
				t.Fatalf("type %v not registered", g.msg.Type())
			}
			for i := 0; i < len(g.b); i++ {
				if _, err := New(g.msg.Type()).Decode(bytes.Clone(g.b[:i])); err == nil {
					t.Fatalf("prefix of %d octets decoded", i)
				}
			}
		})
	}
}

func TestTSAuthData(t *testing.T) {
	// AuthData is the message minus the Length field and minus the MAC.
	for _, g := range tsGoldens() {
		var ad []byte
		switch m := g.msg.(type) {
		case *TSKeyRequest:
			ad = m.AppendAuthData(nil)
			if !bytes.Equal(ad, g.b[1:len(g.b)-TSMACLen]) {
				t.Fatalf("%s: auth data % x", g.name, ad)
			}
		case *TSKeyResponse:
			ad = m.AppendAuthData(nil)
			if !bytes.Equal(ad, g.b[1:len(g.b)-len(m.Sealed)]) {
				t.Fatalf("%s: auth data % x", g.name, ad)
			}
		case *TSAdmitRequest:
			if ad = m.AppendAuthData(nil); !bytes.Equal(ad, g.b[1:len(g.b)-TSMACLen]) {
				t.Fatalf("%s: auth data % x", g.name, ad)
			}
		case *TSAdmitResponse:
			if ad = m.AppendAuthData(nil); !bytes.Equal(ad, g.b[1:len(g.b)-TSMACLen]) {
				t.Fatalf("%s: auth data % x", g.name, ad)
			}
		}
	}
}

func TestTSRejects(t *testing.T) {
	good := tsGoldens()[0].b
	mutate := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	fixLen := func(b []byte) []byte { b[0] = byte(len(b)); return b }
	for name, tc := range map[string]struct {
		b     []byte
		field string
		err   error
	}{
		"reserved flag":   {mutate(2, 0x02), "Flags", ErrReservedFlags},
		"empty name":      {fixLen(append(bytes.Clone(good[:24]), append([]byte{0}, good[29:]...)...)), "Name", ErrTSField},
		"name with slash": {mutate(25, '/'), "Name", ErrTSField},
		"name with space": {mutate(25, ' '), "Name", ErrTSField},
		"trailing octet":  {fixLen(append(bytes.Clone(good), 0)), "MAC", ErrLength},
	} {
		_, _, err := Decode(tc.b)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Field != tc.field || !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %s %v", name, err, tc.field, tc.err)
		}
	}
	// Encoders refuse what decoders refuse.
	bad := []Message{
		&TSKeyRequest{Nonce: seq(0, 15), Name: []byte("a"), Group: []byte("g"), MAC: seq(0, 16)},
		&TSKeyRequest{Nonce: seq(0, 16), Name: []byte(strings.Repeat("a", 24)), Group: []byte("g"), MAC: seq(0, 16)},
		&TSKeyRequest{Nonce: seq(0, 16), Name: []byte("a"), Group: []byte("g+"), MAC: seq(0, 16)},
		&TSKeyResponse{Status: 8, ReqNonce: seq(0, 16), TSNonce: seq(0, 16), Name: []byte("a"), Group: []byte("g")},
		&TSChallenge{Challenge: seq(0, 16)},
		&TSProof{Challenge: seq(0, 16), Proof: seq(0, 8)},
		&TSAdmitRequest{Challenge: seq(0, 16), Proof: seq(0, 16), Gateway: []byte("g"), ClientID: []byte("c")},
		&TSAdmitResponse{Challenge: seq(0, 16), ClientID: []byte("c"), Group: []byte("g"), MAC: seq(0, 16), Status: 9},
	}
	for _, m := range bad {
		if b, err := m.AppendBinary([]byte{1}); err == nil || !bytes.Equal(b, []byte{1}) {
			t.Errorf("%T encoded: % x", m, b)
		}
	}
}

func TestTSZeroAllocDecode(t *testing.T) {
	for _, g := range tsGoldens() {
		m := New(g.msg.Type())
		t.Run(g.name, func(t *testing.T) {
			testutil.AssertAllocs(t, 0, func() {
				if _, err := m.Decode(g.b); err != nil {
					panic(err)
				}
			})
		})
	}
}

// FuzzTS: every TS message decoder is total, and decode → encode is the identity.
func FuzzTS(f *testing.F) {
	for _, g := range tsGoldens() {
		f.Add(g.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for typ := TypeTSKeyRequest; typ <= TypeTSAdmitResponse; typ++ {
			m := New(typ)
			n, err := m.Decode(b)
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%v: untyped error %v", typ, err)
				}
				continue
			}
			enc, err := m.AppendBinary(nil)
			if err != nil {
				t.Fatalf("%v: decoded %#v but cannot encode: %v", typ, m, err)
			}
			if len(enc) != m.Len() {
				t.Fatalf("%v: Len %d, encoded %d", typ, m.Len(), len(enc))
			}
			if len(enc) == n && !bytes.Equal(enc, b[:n]) {
				t.Fatalf("%v: re-encoded % x, input % x", typ, enc, b[:n])
			}
		}
	})
}

// TestTSFuzzCorpusCommitted keeps testdata/fuzz/FuzzTS in step with the
// goldens; set LSMQTT_UPDATE_CORPUS=1 to rewrite it.
func TestTSFuzzCorpusCommitted(t *testing.T) {
	var seeds []testutil.Seed
	for _, g := range tsGoldens() {
		seeds = append(seeds, testutil.Seed{Name: corpusName(g.name), Data: g.b})
	}
	testutil.CheckCorpus(t, "FuzzTS", seeds)
}
