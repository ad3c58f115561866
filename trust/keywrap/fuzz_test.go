package keywrap

import (
	"bytes"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

// FuzzAccept: no TS-KEYRESP but the TS's own authentic one is ever
// accepted, whatever its bytes; nothing panics.
func FuzzAccept(f *testing.F) {
	r, _ := NewKeyRequest(pss, "z1-7", "patient-17", aead.IDAscon128)
	msg, _ := r.Message()
	good := &mqttsn.TSKeyResponse{Suite: 1, KeyID: 9, Sender: 1, NotAfter: uint32(now.Add(time.Hour).Unix()),
		ReqNonce: msg.Nonce, Name: msg.Name, Group: msg.Group}
	SealKeyResponse(pss, good, bytes.Repeat([]byte{7}, 16))
	goodB, _ := good.AppendBinary(nil)
	f.Add(goodB)
	refusal := *good
	refusal.Status = mqttsn.TSDenied
	SealKeyResponse(pss, &refusal, nil)
	rb, _ := refusal.AppendBinary(nil)
	f.Add(rb)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m mqttsn.TSKeyResponse
		if _, err := m.Decode(b); err != nil {
			return
		}
		r2 := *r // a fresh copy of the request each time: the original is never answered
		k, err := r2.Accept(&m, now, aead.Options{})
		if err == nil && (!bytes.Equal(b, goodB) || !bytes.Equal(k.Material(), bytes.Repeat([]byte{7}, 16))) {
			t.Fatalf("accepted a response that is not the TS's: %x", b)
		}
	})
}
