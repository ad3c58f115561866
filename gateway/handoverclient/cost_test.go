package handoverclient_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// What a move costs the node: handover against full reconfiguration, on
// the same run (docs/BENCHMARKS.md "Handover").
//
// The protocol runs for real (two areas, a Trusted System, a caregiver on
// both brokers, loopback UDP); the node's radio records every datagram it
// carries from the moment it enters the new area until its first message
// there is acknowledged. From that trace:
//
//   - bytes on the air: each datagram as the one-hop 6LoWPAN link to the
//     border router carries it (mote.LinkModel: MAC header, IPHC, UDP NHC,
//     fragments), plus one 5-octet acknowledgement per frame;
//   - energy: the z1 profile's Energest model (node/energy), frame by frame
//     as node/mote accounts them (TX/RX airtime, CCA, turnaround, stack
//     cycles), the admission proof as the mote charges it (KDF + 2 × SHA-256),
//     and the idle node (LPM, ContikiMAC channel checks) over the time below;
//   - time, from entering the area to the first message at the caregiver:
//     the messages on the critical path, each uplink datagram taking its
//     frames' airtime with CCA, turnaround and acknowledgement (the border
//     router's radio is always on), each downlink datagram the same plus
//     half a ContikiMAC channel-check interval (the sender strobes until the
//     node wakes: 62.5 ms expected at 8 Hz), and each wired message
//     (gateway↔gateway, gateway↔TS, broker↔caregiver) 0.5 ms.

type costModel struct {
	p     *profile.Profile
	link  mote.LinkModel
	wired time.Duration
}

func newCostModel(t testing.TB) costModel {
	p, err := profile.Load("z1")
	if err != nil {
		t.Fatal(err)
	}
	return costModel{p: p, link: mote.DefaultLinkModel(), wired: 500 * time.Microsecond}
}

func (c costModel) airtime(psdu int) time.Duration {
	return time.Duration(int64(psdu+c.p.Radio.PHYOverheadBytes) * 8 * int64(time.Second) / int64(c.p.Radio.BitRate))
}

// frameTime is one acknowledged frame: CCA, the frame, turnaround, the ACK.
func (c costModel) frameTime(psdu int) time.Duration {
	return time.Duration(c.p.Radio.CCAUS)*time.Microsecond + c.airtime(psdu) +
		time.Duration(c.p.Radio.TurnaroundUS)*time.Microsecond + c.airtime(energy.AckPSDUBytes)
}

func (c costModel) up(n int) time.Duration {
	var d time.Duration
	for _, f := range c.link.Frames(nil, n) {
		d += c.frameTime(f)
	}
	return d
}

func (c costModel) down(n int) time.Duration {
	return time.Second/time.Duration(2*c.p.MAC.ChannelCheckHz) + c.up(n)
}

// moveCost is what one move cost the node.
type moveCost struct {
	datagrams        int
	octets           int // MQTT-SN octets (UDP payloads), both ways
	frames, psdu     int // on the air, both ways, acknowledgements included
	activeMJ, fullMJ float64
	modelled         time.Duration
	wall             time.Duration // loopback, wall clock (informative)
	proofs           int
}

func (c costModel) cost(trace []hop, proofs int, wiredOnPath int, optimistic bool, wall time.Duration) moveCost {
	m := energy.NewMeter(c.p)
	cca := time.Duration(c.p.Radio.CCAUS) * time.Microsecond
	turn := time.Duration(c.p.Radio.TurnaroundUS) * time.Microsecond
	mc := moveCost{wall: wall, proofs: proofs}
	var upResume, upPublish time.Duration
	for _, h := range trace {
		mc.datagrams++
		mc.octets += h.n
		for _, f := range c.link.Frames(nil, h.n) {
			mc.frames += 2
			mc.psdu += f + energy.AckPSDUBytes
			if h.tx { // node/mote radioAccount: data frame out, ACK in
				_ = m.TX(f)
				m.Listen(cca)
				m.Stack(c.p.StackCyclesPerFrame)
				_ = m.RX(energy.AckPSDUBytes)
				m.Listen(turn)
			} else { // data frame in, ACK out
				_ = m.RX(f)
				m.Stack(c.p.StackCyclesPerFrame)
				_ = m.TX(energy.AckPSDUBytes)
				m.Listen(turn)
			}
		}
		// The critical path: everything but what nobody waits for before
		// the first delivery.
		switch {
		case h.typ == mqttsn.TypeHOToken, h.typ == mqttsn.TypePuback:
		case optimistic && h.typ == mqttsn.TypeHOResumed:
		case optimistic && h.typ == mqttsn.TypeHOResume:
			upResume += c.up(h.n)
		case optimistic && h.typ == mqttsn.TypePublish:
			upPublish += c.up(h.n)
		case h.tx:
			mc.modelled += c.up(h.n)
		default:
			mc.modelled += c.down(h.n)
		}
	}
	wired := time.Duration(wiredOnPath) * c.wired
	if optimistic {
		// The PUBLISH goes out right behind HO-RESUME and waits at the
		// visited gateway for the session.
		mc.modelled += upResume + max(upPublish, wired)
	} else {
		mc.modelled += wired
	}
	mc.modelled += c.wired // broker → caregiver
	for range proofs {
		// node/mote's charge for a TS proof: derive K_admit, HMAC-SHA256.
		_, _ = m.Crypto(energy.NoSuite, energy.KDF, 0, 0)
		_, _ = m.Crypto(energy.NoSuite, energy.Hash, 64+27, 0)
		_, _ = m.Crypto(energy.NoSuite, energy.Hash, 64+32, 0)
	}
	active := m.Snapshot()
	mc.activeMJ = active.Energy.CPU + active.Energy.TX + active.Energy.RX
	m.Advance(mc.modelled)
	mc.fullMJ = m.Snapshot().TotalMJ()
	return mc
}

func avgCost(cs []moveCost) moveCost {
	var a moveCost
	for _, c := range cs {
		a.datagrams += c.datagrams
		a.octets += c.octets
		a.frames += c.frames
		a.psdu += c.psdu
		a.activeMJ += c.activeMJ
		a.fullMJ += c.fullMJ
		a.modelled += c.modelled
		a.wall += c.wall
		a.proofs += c.proofs
	}
	n := len(cs)
	a.datagrams /= n
	a.octets /= n
	a.frames /= n
	a.psdu /= n
	a.activeMJ /= float64(n)
	a.fullMJ /= float64(n)
	a.modelled /= time.Duration(n)
	a.wall /= time.Duration(n)
	a.proofs /= n
	return a
}

type variant struct {
	name  string
	full  bool // forget the token: connect afresh
	push  bool // the home gateway pushes the session ahead
	wait  bool // publish only after HO-RESUMED
	prove bool // a proof in every resume
}

var variants = []variant{
	{name: "full reconfiguration", full: true},
	{name: "handover"},
	{name: "handover, pushed ahead", push: true},
	{name: "handover, publish after HO-RESUMED", wait: true},
	{name: "handover, fresh proof", prove: true},
}

// measureMoves runs rounds moves of each variant on the same run: one node
// per variant (each with its own radio), all in the same two areas, moving
// in turn between A and B; it returns the average cost of each.
func measureMoves(t testing.TB, rounds int) map[string]moveCost {
	w := newWorld(t, worldOpts{withTS: true}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	c := newCostModel(t)
	cg := newCaregiver(t, w, "ward/+/vitals")
	ctx, cancel := context.WithTimeout(context.Background(), 10*waitFor)
	defer cancel()
	type walker struct {
		v           variant
		id          string
		n           *handoverclient.Node
		r           *radio
		here, there *area
	}
	var ws []*walker
	for i, v := range variants {
		id := fmt.Sprintf("pc%d", i)
		creds := register(t, w, id)
		r := newRadio(t)
		r.enter(A)
		n := handoverclient.New(r, A.addr(), handoverclient.Config{
			Client: client.Config{ClientID: id, KeepAlive: 10 * time.Minute},
			Prove:  func(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) { return tsclient.Prove(creds, ch) },
			Topics: []string{"ward/" + id + "/vitals", "ward/" + id + "/alarm"},
			Subscriptions: []handoverclient.Subscription{
				{Topic: client.Named("ward/" + id + "/cmd"), QoS: 1}},
			WaitForResumed: v.wait,
			AlwaysProve:    v.prove,
			KnownGateways:  map[string]string{A.addr().String(): "gw-a", B.addr().String(): "gw-b"},
		})
		defer n.Close()
		if err := n.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.WaitToken(ctx); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, &walker{v: v, id: id, n: n, r: r, here: A, there: B})
	}
	costs := map[string][]moveCost{}
	delivered := 0
	for round := 0; round < rounds; round++ {
		for _, wk := range ws {
			v, n, r := wk.v, wk.n, wk.r
			if v.full {
				n.ForgetToken()
			}
			if v.push {
				if err := wk.here.g.PushSession(wk.id, wk.there.name); err != nil {
					t.Fatal(err)
				}
				wk.there.expectEvent(t, gateway.EventPushedIn)
				wk.here.expectEvent(t, gateway.EventConfirmed)
			}
			tsBefore := w.ts.Stats()["admit_local:ok"]
			payload := []byte(fmt.Sprintf("seq=%d", round))
			mark := r.traceLen()
			r.enter(wk.there)
			start := time.Now()
			pub := async(func() error { return n.Publish(ctx, "ward/"+wk.id+"/vitals", mqttsn.QoS1, false, payload) })
			res := n.Move(ctx, wk.there.addr())
			if res.Err != nil || res.Resumed == v.full {
				t.Fatalf("%s: %+v", v.name, res)
			}
			got := cg.waitCount(t, delivered+1)
			wall := time.Since(start)
			if g := got[delivered]; g.topic != "ward/"+wk.id+"/vitals" || g.payload != string(payload) {
				t.Fatalf("%s: caregiver got %+v", v.name, g)
			}
			delivered++
			if err := wait(t, pub); err != nil {
				t.Fatal(err)
			}
			if !v.full && !v.push {
				wk.there.expectEvent(t, gateway.EventResumed)
				wk.here.expectEvent(t, gateway.EventConfirmed)
			}
			trace := r.traceSince(mark)
			tsCalls := int(w.ts.Stats()["admit_local:ok"] - tsBefore)
			wired := 2 * tsCalls // each TS verdict: a request and an answer
			if !v.full && !v.push {
				wired += 2 // HO-FETCH, HO-TRANSFER
			}
			proofs := 0
			for _, h := range trace {
				if h.tx && h.typ == mqttsn.TypeTSProof {
					proofs++
				}
			}
			if res.Proved {
				proofs++
			}
			costs[v.name] = append(costs[v.name], c.cost(trace, proofs, wired, !v.full && !v.wait, wall))
			wk.here, wk.there = wk.there, wk.here
		}
	}
	out := map[string]moveCost{}
	for k, v := range costs {
		out[k] = avgCost(v)
	}
	return out
}

func costTable(cs map[string]moveCost) string {
	full := cs[variants[0].name]
	var sb strings.Builder
	sb.WriteString("| move | datagrams | MQTT-SN octets | frames on air | PSDU octets | proofs | node energy, active (mJ) | node energy, window (mJ) | time to first delivery (modelled) | loopback wall |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range variants {
		name := v.name
		c := cs[name]
		ratio := func(a, b float64) string {
			if name == variants[0].name {
				return ""
			}
			return fmt.Sprintf(" (%.2f)", a/b)
		}
		fmt.Fprintf(&sb, "| %s | %d | %d%s | %d | %d%s | %d | %.3f%s | %.3f%s | %.1f ms%s | %.2f ms |\n",
			name, c.datagrams, c.octets, ratio(float64(c.octets), float64(full.octets)), c.frames,
			c.psdu, ratio(float64(c.psdu), float64(full.psdu)), c.proofs,
			c.activeMJ, ratio(c.activeMJ, full.activeMJ), c.fullMJ, ratio(c.fullMJ, full.fullMJ),
			float64(c.modelled.Microseconds())/1000, ratio(float64(c.modelled), float64(full.modelled)),
			float64(c.wall.Microseconds())/1000)
	}
	return sb.String()
}

// TestHandoverCost measures every variant on the same run and checks the
// target: a handover (the default, and pushed ahead) costs the node at most
// a fifth of a full reconfiguration in energy and in time (both from the
// model above, so deterministic for a given trace). Run with -v for the
// table.
func TestHandoverCost(t *testing.T) {
	cs := measureMoves(t, 3)
	t.Logf("\n%s", costTable(cs))
	full, ho := cs["full reconfiguration"], cs["handover"]
	if full.datagrams != 13 || ho.datagrams != 4 {
		t.Errorf("datagrams: full %d (CONNECT, TS-CHALLENGE, TS-PROOF, CONNACK, HO-TOKEN, 2 × REGISTER/REGACK, "+
			"SUBSCRIBE/SUBACK, PUBLISH/PUBACK), handover %d (HO-RESUME, HO-RESUMED, PUBLISH, PUBACK)", full.datagrams, ho.datagrams)
	}
	for _, name := range []string{"handover", "handover, pushed ahead"} {
		c := cs[name]
		if r := c.activeMJ / full.activeMJ; r > 0.2 {
			t.Errorf("%s: active energy %.3f of a full reconfiguration, want ≤ 0.2", name, r)
		}
		if r := c.fullMJ / full.fullMJ; r > 0.2 {
			t.Errorf("%s: window energy %.3f of a full reconfiguration, want ≤ 0.2", name, r)
		}
		if r := float64(c.modelled) / float64(full.modelled); r > 0.2 {
			t.Errorf("%s: time %.3f of a full reconfiguration, want ≤ 0.2", name, r)
		}
	}
}

// BenchmarkHandoverCost reports the same figures as metrics per move.
func BenchmarkHandoverCost(b *testing.B) {
	b.ReportAllocs()
	var cs map[string]moveCost
	for b.Loop() {
		cs = measureMoves(b, 1)
	}
	for _, v := range variants {
		c := cs[v.name]
		key := strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(v.name)
		b.ReportMetric(c.activeMJ, key+"-mJ")
		b.ReportMetric(float64(c.modelled.Microseconds())/1000, key+"-ms")
		b.ReportMetric(float64(c.psdu), key+"-air-octets")
	}
}
