package mote_test

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

type meshMote struct {
	m   *mote.Mote
	tr  *mote.MeshTransport
	mac ieee802154.Address
}

func (e *env) meshMote(i int, pos medium.Position, cfg mote.Config) meshMote {
	e.t.Helper()
	mac := ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, 0, 0, byte(i)}
	port, err := e.a.Medium.Attach(ieee802154.Ext(mac), uint16(i))
	if err != nil {
		e.t.Fatal(err)
	}
	e.a.Medium.SetPosition(ieee802154.Ext(mac), pos)
	tr, err := mote.NewMeshTransport(mote.MeshConfig{Addr: mac, Radio: port, Clock: e.clk, Seed: uint64(i)})
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Transport, cfg.Clock, cfg.Manual = tr, e.clk, true
	m, err := mote.New(cfg)
	if err != nil {
		tr.Close()
		e.t.Fatal(err)
	}
	e.add(m)
	return meshMote{m, tr, ieee802154.Ext(mac)}
}

// quiet reports whether no frame to or from mm is in flight: the medium's
// counts for it equal what its stack has sent and heard.
func quiet(md *medium.Medium, mm meshMote) bool {
	ns := md.Node(mm.mac)
	c := mm.tr.Stack().Counters()
	return ns.TxFrames == c.TxFrames && ns.RxFrames == c.RxFrames+c.OverheardFrames
}

// Over the mesh, a mote's TX and RX ticks must match the frames and octets
// the medium carried for it: a one-hop mote and a two-hop mote behind it
// (which makes the first one forward, and overhear), RPL control traffic,
// fragments and acknowledgements included.
func TestMeshAccountingMatchesMedium(t *testing.T) {
	e := newEnv(t, area.Config{Mesh: true, TS: true, MediumConfig: medium.Config{Range: 40, Seed: 3}})
	motes := []meshMote{
		e.meshMote(1, medium.Position{X: 30}, mote.Config{Creds: e.register("z1-0001", "1"), RoutineQoS: mqttsn.QoS1, ECGBatch: time.Second}),
		e.meshMote(2, medium.Position{X: 60}, mote.Config{Creds: e.register("z1-0002", "2"), RoutineQoS: mqttsn.QoS1, ECGBatch: time.Second}),
	}
	if ok, _ := e.drv.RunUntil(e.ctx, func() bool { return motes[0].tr.Ready() && motes[1].tr.Ready() }, 5*time.Minute); !ok {
		t.Fatal("motes did not join the DODAG in 5 minutes")
	}
	for _, mm := range motes {
		e.do("connect "+mm.m.ID(), time.Minute, mm.m.Connect)
	}
	const n = 6
	for i := range n {
		for _, mm := range motes {
			e.do("publish", time.Minute, mm.m.PublishVitals)
			if i == 0 {
				e.do("ecg", time.Minute, mm.m.PublishECG) // 500 samples: 9 fragments
			}
		}
		if err := e.drv.RunFor(e.ctx, 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	ok, _ := e.drv.Await(e.ctx, func() bool { return quiet(e.a.Medium, motes[0]) && quiet(e.a.Medium, motes[1]) }, time.Second)
	if !ok {
		t.Fatal("frames still in flight after a second")
	}
	p := motes[0].m.Meter().Profile()
	for _, mm := range motes {
		s := mm.m.Snapshot()
		ns := e.a.Medium.Node(mm.mac)
		c := mm.tr.Stack().Counters()
		st := mm.m.Stats()
		if st.PublishedVitals != n || st.PublishedECG != 1 {
			t.Fatalf("%s published %d vitals, %d ECG", mm.m.ID(), st.PublishedVitals, st.PublishedECG)
		}
		wantTX := (ns.TxOctets + 6*ns.TxFrames) * 8 * 32768 / 250000
		listen := time.Duration(ns.TxFrames-c.AcksSent)*time.Duration(p.Radio.CCAUS)*time.Microsecond +
			time.Duration(c.AcksSent+c.MACTxAcked)*time.Duration(p.Radio.TurnaroundUS)*time.Microsecond +
			time.Duration(c.MACRetries+c.MACTxFailed)*mote.AckWaitDuration
		wantRX := (ns.RxOctets+6*ns.RxFrames)*8*32768/250000 + uint64(listen)*32768/uint64(time.Second)
		if s.Ticks.TX != wantTX || s.Ticks.RX != wantRX {
			t.Errorf("%s: ticks TX %d RX %d, medium says TX %d RX %d (%d/%d frames, %d/%d octets)",
				mm.m.ID(), s.Ticks.TX, s.Ticks.RX, wantTX, wantRX, ns.TxFrames, ns.RxFrames, ns.TxOctets, ns.RxOctets)
		}
		if s.FramesTX != ns.TxFrames || s.BytesTX != ns.TxOctets || s.FramesRX != ns.RxFrames || s.BytesRX != ns.RxOctets {
			t.Errorf("%s: meter frames %d/%d octets %d/%d, medium %d/%d %d/%d", mm.m.ID(),
				s.FramesTX, s.FramesRX, s.BytesTX, s.BytesRX, ns.TxFrames, ns.RxFrames, ns.TxOctets, ns.RxOctets)
		}
		if c.RPLTx == 0 || c.FragmentedTx == 0 {
			t.Errorf("%s: RPL messages %d, fragmented packets %d: the run should have both", mm.m.ID(), c.RPLTx, c.FragmentedTx)
		}
		t.Logf("%s: %d/%d frames, %d/%d octets, forwarded %d, overheard %d; TX %d RX %d ticks; %.3f mJ over %v",
			mm.m.ID(), ns.TxFrames, ns.RxFrames, ns.TxOctets, ns.RxOctets, c.Forwarded, c.OverheardFrames, s.Ticks.TX, s.Ticks.RX, s.TotalMJ(), s.Elapsed())
	}
	if motes[0].tr.Stack().Counters().Forwarded == 0 {
		t.Fatal("the one-hop mote forwarded nothing for the two-hop one")
	}
	_ = stack.Tx
}
