package mote_test

import (
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// expectFrames is the documented one-hop estimate, written out again
// here: MAC header 21 + FCS 2 around IPHC 2 + UDP NHC 7 + data, in one
// frame of at most 127 octets, else a FRAG1 (4) carrying data up to 88
// octets (48 + 88 = 136, a multiple of 8) and FRAGNs (5) of 96.
func expectFrames(n int) []int {
	if 9+n <= 104 {
		return []int{23 + 9 + n}
	}
	out := []int{23 + 4 + 9 + 88}
	for left := n - 88; left > 0; left -= 96 {
		out = append(out, 23+5+min(left, 96))
	}
	return out
}

// expectTicks computes, from datagram sizes alone, the TX and RX ticks the
// documented accounting gives: data frames with a CCA before each, one ACK
// per frame each way with the turnaround around it.
func expectTicks(p *profile.Profile, sent, recv []int) (tx, rx uint64) {
	var txBits, rxBits uint64
	var listen time.Duration
	cca := time.Duration(p.Radio.CCAUS) * time.Microsecond
	turn := time.Duration(p.Radio.TurnaroundUS) * time.Microsecond
	bits := func(psdu int) uint64 { return uint64(6+psdu) * 8 }
	for _, n := range sent {
		for _, f := range expectFrames(n) {
			txBits += bits(f)
			listen += cca
			rxBits += bits(5)
			listen += turn
		}
	}
	for _, n := range recv {
		for _, f := range expectFrames(n) {
			rxBits += bits(f)
			txBits += bits(5)
			listen += turn
		}
	}
	tx = txBits * 32768 / 250000
	rx = rxBits*32768/250000 + uint64(listen)*32768/uint64(time.Second)
	return tx, rx
}

func TestUDPAccountingMatchesDatagrams(t *testing.T) {
	e := newEnv(t, area.Config{UDP: true, TS: true})
	creds := e.register("z1-0001", "17")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rec := &recorder{PacketConn: pc}
	gw, _ := net.ResolveUDPAddr("udp", e.a.UDPAddr())
	m, err := mote.New(mote.Config{Creds: creds, Transport: mote.NewUDPTransport(rec, gw, mote.DefaultLinkModel()),
		Clock: e.clk, Manual: true, RoutineQoS: mqttsn.QoS1, Seed: 7, ECGBatch: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.add(m)
	e.do("connect", time.Minute, m.Connect)
	const n = 25
	for i := range n {
		e.do("sample", time.Minute, m.SampleAll)
		e.do("publish", time.Minute, m.PublishVitals)
		if i%5 == 4 { // an ECG batch of 150 samples: fragmented
			e.do("ecg", time.Minute, m.PublishECG)
			if err := e.drv.RunFor(e.ctx, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	sent, recv := rec.sizes()
	st := m.Stats()
	s := m.Snapshot()
	if st.PublishedVitals != n || st.PublishedECG != n/5 || st.PublishFailures != 0 {
		t.Fatalf("published %d (failures %d), want %d", st.PublishedVitals, st.PublishFailures, n)
	}
	var sentBytes, recvBytes uint64
	for _, v := range sent {
		sentBytes += uint64(v)
	}
	for _, v := range recv {
		recvBytes += uint64(v)
	}
	if st.MQTTSN.BytesSent != sentBytes || st.MQTTSN.BytesReceived != recvBytes {
		t.Fatalf("client counted %d/%d octets, socket carried %d/%d", st.MQTTSN.BytesSent, st.MQTTSN.BytesReceived, sentBytes, recvBytes)
	}
	// CONNECT, TS-PROOF, REGISTER×3, TS-KEYREQ, the PUBLISHes at least.
	if len(sent) < n+n/5+6 {
		t.Fatalf("only %d datagrams sent", len(sent))
	}
	fragmented := 0
	for _, v := range sent {
		if len(expectFrames(v)) > 1 {
			fragmented++
		}
	}
	if fragmented < n/5 {
		t.Fatalf("%d fragmented datagrams, want the %d ECG batches", fragmented, n/5)
	}
	p := m.Meter().Profile()
	wantTX, wantRX := expectTicks(p, sent, recv)
	if s.Ticks.TX != wantTX || s.Ticks.RX != wantRX {
		t.Fatalf("ticks TX %d RX %d, want TX %d RX %d (from %d+%d datagrams)", s.Ticks.TX, s.Ticks.RX, wantTX, wantRX, len(sent), len(recv))
	}
	if s.Time != energy.Ticks(e.clk.Since(epoch)) {
		t.Fatalf("meter time %d ticks, clock %v", s.Time, e.clk.Since(epoch))
	}
	if s.CryptoOps == 0 || s.Cycles.Crypto == 0 || s.Samples < 2*n+150*n/5 {
		t.Fatalf("crypto ops %d cycles %d samples %d", s.CryptoOps, s.Cycles.Crypto, s.Samples)
	}
	t.Logf("%d datagrams out, %d in; TX %d ticks, RX %d ticks, %.3f mJ over %v", len(sent), len(recv), s.Ticks.TX, s.Ticks.RX, s.TotalMJ(), s.Elapsed())
}
