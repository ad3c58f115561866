package mote_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// A mote that does not hold its registered PSS, or is not registered, is
// refused at CONNECT by the area's admission; a revoked one too.
func TestAdmissionRefusesImpostors(t *testing.T) {
	e := newEnv(t, area.Config{UDP: true, TS: true})
	good := e.register("z1-0007", "7")
	forged := *good
	forged.PSS = bytes.Repeat([]byte{0x42}, 16)
	stranger := &tsclient.Credentials{Name: "z1-0999", Kind: "node", PSS: bytes.Repeat([]byte{1}, 16), Sender: 999, Group: "999"}
	revoked := e.register("z1-0008", "8")
	if err := e.a.Registry.Revoke("z1-0008"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		creds *tsclient.Credentials
		ok    bool
	}{{"registered", good, true}, {"wrong PSS", &forged, false}, {"unregistered", stranger, false}, {"revoked", revoked, false}} {
		tr, err := mote.DialUDP(e.a.UDPAddr(), mote.DefaultLinkModel())
		if err != nil {
			t.Fatal(err)
		}
		m, err := mote.New(mote.Config{Creds: c.creds, Transport: tr, Clock: e.clk, Manual: true, MaxRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		e.add(m)
		err = e.drv.Do(e.ctx, time.Minute, m.Connect)
		var rc mqttsn.ReturnCode
		if c.ok && err != nil || !c.ok && !errors.As(err, &rc) {
			t.Errorf("%s: connect: %v", c.name, err)
		}
		if st := m.Stats(); st.Challenges != 1 {
			t.Errorf("%s: %d challenges answered", c.name, st.Challenges)
		}
	}
}
