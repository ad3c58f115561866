package ts

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/keywrap"
	"github.com/lsmqtt/lsmqtt/trust/registry"
)

// FuzzHandle feeds arbitrary datagrams to the TS as its server would: the
// service never panics, answers only requests, and every answer encodes.
// A registered node, caregiver and gateway make the seeds' MACs valid, so
// mutations explore the deep paths too.
func FuzzHandle(f *testing.F) {
	clk := clock.NewVirtual(t0)
	reg, err := registry.Open(filepath.Join(f.TempDir(), "ts.db"), registry.Options{Clock: clk})
	if err != nil {
		f.Fatal(err)
	}
	defer reg.Close()
	node, _ := reg.RegisterNode("z1-7", "p17")
	cg, _ := reg.RegisterCaregiver("nurse")
	reg.Grant("nurse", "p17")
	gw, _ := reg.RegisterGateway("gw")
	svc, err := NewService(Config{Registry: reg, Clock: clk})
	if err != nil {
		f.Fatal(err)
	}
	defer svc.Close()

	add := func(m mqttsn.Message) {
		b, err := m.AppendBinary(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r, _ := keywrap.NewKeyRequest(node.PSS, "z1-7", "p17", aead.IDAscon128)
	m, _ := r.Message()
	add(m)
	resp := svc.HandleKeyRequest(m)
	fr, _ := keywrap.NewFetchRequest(cg.PSS, "nurse", "p17", resp.KeyID)
	fm, _ := fr.Message()
	add(fm)
	proof, _ := keywrap.Prove(node.PSS, bytes.Repeat([]byte{1}, 16), "gw", "z1-7")
	ar := &mqttsn.TSAdmitRequest{Challenge: bytes.Repeat([]byte{1}, 16), Proof: proof, Gateway: []byte("gw"), ClientID: []byte("z1-7")}
	keywrap.SignAdmitRequest(gw.PSS, ar)
	add(ar)
	add(resp)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := mqttsn.Decode(b)
		if err != nil {
			return
		}
		out, ok := svc.Handle(m)
		switch m.(type) {
		case *mqttsn.TSKeyRequest, *mqttsn.TSAdmitRequest:
			if !ok {
				t.Fatal("request not answered")
			}
		default:
			if ok {
				t.Fatalf("answered a %v", m.Type())
			}
			return
		}
		if _, err := out.AppendBinary(nil); err != nil {
			t.Fatalf("answer does not encode: %v", err)
		}
		clk.Advance(time.Second)
	})
}
