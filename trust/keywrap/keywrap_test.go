package keywrap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

var (
	pss   = bytes.Repeat([]byte{0x42}, PSSLen)
	other = bytes.Repeat([]byte{0x43}, PSSLen)
	now   = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

// TestDerivationPinned pins the HKDF labels and framing of docs/protocol.md:
// if these change, deployed credentials stop working. The expected values
// were computed independently with Python's hmac/hashlib (RFC 5869 by hand).
func TestDerivationPinned(t *testing.T) {
	kreq, _ := RequestKey(pss, "z1-7")
	kadm, _ := AdmitKey(pss, "z1-7")
	kw, _ := WrapKey(pss, make([]byte, 16), bytes.Repeat([]byte{1}, 16), "z1-7")
	got := hex.EncodeToString(kreq) + " " + hex.EncodeToString(kadm) + " " + hex.EncodeToString(kw)
	const want = "9c9d412e989d83c2d42bf066a6f0eda6 ed0cf57e7aeee5c954ed07497d8ac29f 7b3011feb5cb7d084ef2fcbf1f8b14b8"
	if got != want {
		t.Fatalf("derived %s, want %s", got, want)
	}
	if bytes.Equal(kreq, kadm) || bytes.Equal(kreq, kw) {
		t.Fatal("labels do not separate keys")
	}
	if k2, _ := RequestKey(pss, "z1-8"); bytes.Equal(k2, kreq) {
		t.Fatal("name not bound")
	}
	if _, err := RequestKey(pss[:15], "x"); !errors.Is(err, ErrPSS) {
		t.Fatalf("short PSS: %v", err)
	}
}

// tsAnswer plays the TS: answers req with material under key id 9.
func tsAnswer(t *testing.T, key []byte, req *mqttsn.TSKeyRequest, status mqttsn.TSStatus, material []byte, notAfter time.Time) *mqttsn.TSKeyResponse {
	t.Helper()
	m := &mqttsn.TSKeyResponse{Status: status, Fetch: req.Fetch, Suite: req.Suite, KeyID: req.KeyID,
		Sender: 0x11, NotAfter: uint32(notAfter.Unix()), ReqNonce: bytes.Clone(req.Nonce),
		Name: bytes.Clone(req.Name), Group: bytes.Clone(req.Group)}
	if !req.Fetch {
		m.KeyID = 9
	}
	if err := SealKeyResponse(key, m, material); err != nil {
		t.Fatal(err)
	}
	// Through the wire and back, as it would travel.
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var d mqttsn.TSKeyResponse
	if _, err := d.Decode(b); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestKeyExchange(t *testing.T) {
	material := bytes.Repeat([]byte{0x99}, 16)
	r, err := NewKeyRequest(pss, "z1-7", "patient-17", aead.IDAscon128)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := r.Message()
	if !VerifyKeyRequest(pss, msg) || VerifyKeyRequest(other, msg) {
		t.Fatal("request MAC")
	}
	resp := tsAnswer(t, pss, msg, mqttsn.TSOK, material, now.Add(time.Hour))
	k, err := r.Accept(resp, now, aead.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != 9 || k.Sender != 0x11 || k.Group != "patient-17" || !bytes.Equal(k.Material(), material) ||
		k.Suite.ID() != aead.IDAscon128 || !k.NotAfter.Equal(now.Add(time.Hour)) {
		t.Fatalf("key %+v", k)
	}
	// The same (authentic) answer again is refused.
	if _, err := r.Accept(resp, now, aead.Options{}); !errors.Is(err, ErrAnswered) {
		t.Fatalf("second accept: %v", err)
	}
	// A new request does not accept the old answer (replay of a stale answer).
	r2, _ := NewKeyRequest(pss, "z1-7", "patient-17", aead.IDAscon128)
	if _, err := r2.Accept(resp, now, aead.Options{}); !errors.Is(err, ErrStale) {
		t.Fatalf("stale answer: %v", err)
	}
}

func TestKeyExchangeAttacks(t *testing.T) {
	material := bytes.Repeat([]byte{0x99}, 16)
	fresh := func() (*Request, *mqttsn.TSKeyRequest) {
		r, _ := NewKeyRequest(pss, "z1-7", "patient-17", aead.IDAscon128)
		m, _ := r.Message()
		return r, m
	}
	// Every bit of an encoded answer matters.
	r, msg := fresh()
	good := tsAnswer(t, pss, msg, mqttsn.TSOK, material, now.Add(time.Hour))
	enc, _ := good.AppendBinary(nil)
	for i := 16; i < len(enc)*8; i++ { // past Length and MsgType
		b := bytes.Clone(enc)
		b[i/8] ^= 1 << (i % 8)
		var d mqttsn.TSKeyResponse
		if _, err := d.Decode(b); err != nil {
			continue // the codec refused it
		}
		if _, err := r.Accept(&d, now, aead.Options{}); err == nil {
			t.Fatalf("bit %d flipped: accepted", i)
		}
	}
	if _, err := r.Accept(good, now, aead.Options{}); err != nil {
		t.Fatalf("untouched answer after flips: %v", err)
	}

	// Forged by someone without the PSS.
	r, msg = fresh()
	if _, err := r.Accept(tsAnswer(t, other, msg, mqttsn.TSOK, material, now.Add(time.Hour)), now, aead.Options{}); !errors.Is(err, ErrForged) {
		t.Fatalf("forged: %v", err)
	}
	// Expired on arrival.
	r, msg = fresh()
	if _, err := r.Accept(tsAnswer(t, pss, msg, mqttsn.TSOK, material, now), now, aead.Options{}); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	// Authentic, but for another group than asked.
	r, msg = fresh()
	msg.Group = []byte("patient-18")
	if _, err := r.Accept(tsAnswer(t, pss, msg, mqttsn.TSOK, material, now.Add(time.Hour)), now, aead.Options{}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	// Authentic refusal.
	r, msg = fresh()
	var re *RefusedError
	if _, err := r.Accept(tsAnswer(t, pss, msg, mqttsn.TSRevoked, nil, now.Add(time.Hour)), now, aead.Options{}); !errors.As(err, &re) || re.Status != mqttsn.TSRevoked {
		t.Fatalf("refusal: %v", err)
	}
	// Unauthenticated refusal: ignored.
	r, msg = fresh()
	unauth := tsAnswer(t, pss, msg, mqttsn.TSRevoked, nil, now.Add(time.Hour))
	unauth.Sealed = nil
	if _, err := r.Accept(unauth, now, aead.Options{}); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unauthenticated refusal: %v", err)
	}
	// Someone else's answer.
	r, msg = fresh()
	msg.Name = []byte("z1-8")
	if _, err := r.Accept(tsAnswer(t, pss, msg, mqttsn.TSOK, material, now.Add(time.Hour)), now, aead.Options{}); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("not for me: %v", err)
	}
	// paper-xor only when allowed.
	rp, _ := NewKeyRequest(pss, "z1-7", "patient-17", aead.IDPaperXOR)
	mp, _ := rp.Message()
	if _, err := rp.Accept(tsAnswer(t, pss, mp, mqttsn.TSOK, material[:8], now.Add(time.Hour)), now, aead.Options{}); !errors.Is(err, aead.ErrInsecureSuite) {
		t.Fatalf("paper-xor without AllowInsecure: %v", err)
	}
}

func TestFetchExchange(t *testing.T) {
	r, err := NewFetchRequest(pss, "dr-who", "patient-17", 1234)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := r.Message()
	if !msg.Fetch || msg.KeyID != 1234 {
		t.Fatalf("%+v", msg)
	}
	resp := tsAnswer(t, pss, msg, mqttsn.TSOK, bytes.Repeat([]byte{7}, 16), now.Add(time.Minute))
	resp.Suite = uint8(aead.IDAES128CCM) // the key's suite; MAC was over Suite 0 → forged
	if _, err := r.Accept(resp, now, aead.Options{}); !errors.Is(err, ErrForged) {
		t.Fatalf("altered suite: %v", err)
	}
	msg.Suite = uint8(aead.IDAES128CCM)
	resp = tsAnswer(t, pss, msg, mqttsn.TSOK, bytes.Repeat([]byte{7}, 16), now.Add(time.Minute))
	k, err := r.Accept(resp, now, aead.Options{})
	if err != nil || k.ID != 1234 || k.Suite.ID() != aead.IDAES128CCM {
		t.Fatalf("fetch: %+v %v", k, err)
	}
}

func TestAdmission(t *testing.T) {
	ch := bytes.Repeat([]byte{5}, 16)
	proof, err := Prove(pss, ch, "gw-ward3", "z1-7")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckProof(pss, ch, "gw-ward3", "z1-7", proof) {
		t.Fatal("good proof refused")
	}
	for name, ok := range map[string]bool{
		"other pss":       CheckProof(other, ch, "gw-ward3", "z1-7", proof),
		"other challenge": CheckProof(pss, bytes.Repeat([]byte{6}, 16), "gw-ward3", "z1-7", proof),
		"other gateway":   CheckProof(pss, ch, "gw-ward4", "z1-7", proof),
		"other client":    CheckProof(pss, ch, "gw-ward3", "z1-8", proof),
		"short proof":     CheckProof(pss, ch, "gw-ward3", "z1-7", proof[:15]),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	gw := bytes.Repeat([]byte{0x77}, 16)
	req := &mqttsn.TSAdmitRequest{Challenge: ch, Proof: proof, Gateway: []byte("gw-ward3"), ClientID: []byte("z1-7")}
	if err := SignAdmitRequest(gw, req); err != nil {
		t.Fatal(err)
	}
	if !VerifyAdmitRequest(gw, req) || VerifyAdmitRequest(other, req) {
		t.Fatal("admit request MAC")
	}
	req.ClientID = []byte("z1-8")
	if VerifyAdmitRequest(gw, req) {
		t.Fatal("altered admit request accepted")
	}
	resp := &mqttsn.TSAdmitResponse{Status: mqttsn.TSOK, Sender: 0x11, Challenge: ch, ClientID: []byte("z1-7"), Group: []byte("p")}
	if err := SignAdmitResponse(gw, "gw-ward3", resp); err != nil {
		t.Fatal(err)
	}
	if !VerifyAdmitResponse(gw, "gw-ward3", resp) || VerifyAdmitResponse(gw, "gw-ward4", resp) {
		t.Fatal("admit response MAC")
	}
	resp.Status = mqttsn.TSRevoked
	if VerifyAdmitResponse(gw, "gw-ward3", resp) {
		t.Fatal("altered verdict accepted")
	}
}
