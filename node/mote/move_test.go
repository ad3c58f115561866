package mote_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// A mote told it moved resumes its session at the visited gateway (no
// CONNECT, no admission proof, no REGISTER), publishes there, and moves
// back the same way, under the same payload key; with NoHandover it
// connects afresh instead and fetches a new key each time.
func TestMoveResumesAtVisitedGateway(t *testing.T) {
	w := newHOWorld(t, false)
	gws := [2]net.Addr{}
	for i, a := range w.areas {
		ua, err := net.ResolveUDPAddr("udp", a.UDPAddr())
		if err != nil {
			t.Fatal(err)
		}
		gws[i] = ua
	}
	for _, noHO := range []bool{false, true} {
		name := map[bool]string{false: "z1-resume", true: "z1-full"}[noHO]
		creds := w.register(name, name)
		tr, err := mote.DialUDP(w.areas[0].UDPAddr(), mote.DefaultLinkModel())
		if err != nil {
			t.Fatal(err)
		}
		var told []mote.MoveRecord
		m, err := mote.New(mote.Config{Creds: creds, Transport: tr, Clock: w.clk, Manual: true, RoutineQoS: mqttsn.QoS1,
			NoHandover: noHO, OnMove: func(r mote.MoveRecord) { told = append(told, r) }})
		if err != nil {
			tr.Close()
			t.Fatal(err)
		}
		w.add(m)
		w.do("connect", time.Minute, m.Connect)
		if ok, _ := w.drv.Await(w.ctx, m.HasToken, 10*time.Second); !ok {
			t.Fatal("no session token after the connect")
		}
		w.do("publish in A", time.Minute, m.PublishVitals)
		keyID := func(d delivery) uint32 {
			h, _, err := envelope.Parse(d.env, tagSize)
			if err != nil {
				t.Fatalf("%s: envelope: %v", name, err)
			}
			return h.KeyID
		}
		lastKey := keyID(w.deliveredSince(w.delivered() - 1)[0])
		for k, to := range []int{1, 0, 1} {
			var rec mote.MoveRecord
			var moved bool
			w.do("move", time.Minute, func(ctx context.Context) (err error) {
				rec, moved, err = m.Move(ctx, gws[to])
				return err
			})
			if !moved || rec.Resumed == noHO || rec.To != gws[to].String() || rec.Err != "" {
				t.Fatalf("%s move %d: moved %v, record %+v", name, k, moved, rec)
			}
			before := w.delivered()
			w.do("publish", time.Minute, m.PublishVitals)
			ok, _ := w.drv.Await(w.ctx, func() bool { return w.delivered() > before }, 10*time.Second)
			if !ok {
				t.Fatalf("%s move %d: nothing delivered after it", name, k)
			}
			if d := w.deliveredSince(before); d[0].area != to || d[0].topic != m.Topic(mote.KindVitals) {
				t.Fatalf("%s move %d: delivered %q in area %d, want area %d", name, k, d[0].topic, d[0].area, to)
			}
			// A resume keeps the payload key; a full reconfiguration
			// seals under a new one.
			if key := keyID(w.deliveredSince(before)[0]); (key != lastKey) != noHO {
				t.Fatalf("%s move %d: key id %d after the move, %d before", name, k, key, lastKey)
			} else {
				lastKey = key
			}
			// Already there: nothing to do.
			w.do("stay", time.Minute, func(ctx context.Context) (err error) {
				_, moved, err = m.Move(ctx, gws[to])
				return err
			})
			if moved {
				t.Fatalf("%s: a move to the gateway it is at", name)
			}
		}
		st := m.Stats()
		want := mote.Stats{Moves: 3, Handovers: 3, Connects: 1, Challenges: 1}
		if noHO {
			want = mote.Stats{Moves: 3, Fallbacks: 3, Connects: 4, Challenges: 4}
		}
		if st.Moves != want.Moves || st.Handovers != want.Handovers || st.Fallbacks != want.Fallbacks ||
			st.Connects != want.Connects || st.Challenges != want.Challenges || st.PublishFailures != 0 {
			t.Fatalf("%s: stats %+v, want moves/handovers/fallbacks/connects/challenges %d/%d/%d/%d/%d", name, st,
				want.Moves, want.Handovers, want.Fallbacks, want.Connects, want.Challenges)
		}
		if len(told) != 3 || len(m.Moves()) != 3 {
			t.Fatalf("%s: OnMove told of %d moves, Moves lists %d", name, len(told), len(m.Moves()))
		}
		// The resumed session keeps its payload key; each full
		// reconfiguration fetches a new one.
		if wantKeys := 1 + want.Fallbacks; st.KeyRequests != wantKeys || st.KeyRenewals != want.Fallbacks {
			t.Fatalf("%s: %d key requests, %d renewals; want %d, %d", name, st.KeyRequests, st.KeyRenewals, wantKeys, want.Fallbacks)
		}
	}
}

// With FollowAdvertise, a mote that hears another gateway's ADVERTISE
// takes it for its owner's word that it is in that gateway's area: its next
// publish resumes its session there.
func TestFollowAdvertise(t *testing.T) {
	sock, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	// Area B (index 1) advertises to the mote's socket every minute.
	w := newHOWorld(t, false, func(i int, c *area.Config) {
		if i == 1 {
			c.Gateway.AdvertiseInterval = time.Minute
			c.Gateway.AdvertiseAddrs = []net.Addr{sock.LocalAddr()}
		}
	})
	gwA, err := net.ResolveUDPAddr("udp", w.areas[0].UDPAddr())
	if err != nil {
		t.Fatal(err)
	}
	tr := mote.NewUDPTransport(sock, gwA, mote.DefaultLinkModel())
	m, err := mote.New(mote.Config{Creds: w.register("z1-listener", "listener"), Transport: tr, Clock: w.clk,
		Manual: true, RoutineQoS: mqttsn.QoS1, FollowAdvertise: true})
	if err != nil {
		t.Fatal(err)
	}
	w.add(m)
	w.do("connect", time.Minute, m.Connect)
	if ok, _ := w.drv.Await(w.ctx, m.HasToken, 10*time.Second); !ok {
		t.Fatal("no session token")
	}
	gwB := w.areas[1].UDPAddr()
	if ok, _ := w.drv.RunUntil(w.ctx, func() bool { return tr.Gateway().String() == gwB }, 2*time.Minute); !ok {
		t.Fatalf("the transport still names %v after two ADVERTISE intervals", tr.Gateway())
	}
	start := w.delivered()
	w.do("publish", time.Minute, m.PublishVitals)
	recs := m.Moves()
	if len(recs) != 1 || !recs[0].Resumed || recs[0].To != gwB {
		t.Fatalf("moves %+v, want one resume at %s", recs, gwB)
	}
	if ok, _ := w.drv.Await(w.ctx, func() bool { return w.delivered() > start }, 10*time.Second); !ok {
		t.Fatal("nothing delivered after the move")
	}
	if d := w.deliveredSince(start); d[0].area != 1 {
		t.Fatalf("delivered in area %d, want 1 (B)", d[0].area)
	}
	if st := m.Stats(); st.Challenges != 1 || st.Connects != 1 {
		t.Fatalf("%d admission proofs, %d connects; want 1", st.Challenges, st.Connects)
	}
}

// A publish that starts while the mote's session is moving goes out right
// behind HO-RESUME (the visited gateway holds it until the session is in),
// not after HO-RESUMED, whose wait costs a duty-cycled mote a channel
// check. The mote's socket holds HO-RESUMED back until the mote has sent a
// PUBLISH after HO-RESUME, or for 5 s of emulated time: before the fix the
// publish waited for the whole move (Mote.Connect held its lock until
// HO-RESUMED), so the PUBLISH came only after HO-RESUMED.
func TestPublishDuringMoveFollowsResume(t *testing.T) {
	w := newHOWorld(t, false)
	gwB, err := net.ResolveUDPAddr("udp", w.areas[1].UDPAddr())
	if err != nil {
		t.Fatal(err)
	}
	creds := w.register("z1-mover", "z1-mover")
	tr, err := mote.DialUDP(w.areas[0].UDPAddr(), mote.DefaultLinkModel())
	if err != nil {
		t.Fatal(err)
	}
	m, err := mote.New(mote.Config{Creds: creds, Transport: tr, Clock: w.clk, Manual: true, RoutineQoS: mqttsn.QoS1})
	if err != nil {
		tr.Close()
		t.Fatal(err)
	}
	hc := &resumeHolder{clk: w.clk, resumeOut: make(chan struct{}), pubOut: make(chan struct{})}
	mote.WrapConn(m, hc.wrap)
	w.add(m)
	w.do("connect", time.Minute, m.Connect)
	if ok, _ := w.drv.Await(w.ctx, m.HasToken, 10*time.Second); !ok {
		t.Fatal("no session token after the connect")
	}
	w.do("publish in A", time.Minute, m.PublishVitals)
	hc.armed.Store(true)
	var rec mote.MoveRecord
	w.do("move, and publish during it", time.Minute, func(ctx context.Context) error {
		moved := make(chan error, 1)
		go func() {
			r, _, err := m.Move(ctx, gwB)
			rec = r
			moved <- err
		}()
		var perr error
		select {
		case <-hc.resumeOut:
			perr = m.PublishVitals(ctx)
		case err := <-moved:
			return fmt.Errorf("the move ended before HO-RESUME was sent: %v", err)
		}
		if err := <-moved; err != nil {
			return err
		}
		return perr
	})
	if !rec.Resumed {
		t.Fatalf("the move did not resume: %+v", rec)
	}
	got := hc.sequence()
	iPub, iResumed := slices.Index(got, "→PUBLISH"), slices.Index(got, "←HO-RESUMED")
	if iPub < 0 || iResumed < 0 || iPub > iResumed {
		t.Fatalf("the mote's datagrams from HO-RESUME on: %v; want the PUBLISH before HO-RESUMED", got)
	}
	if ok, _ := w.drv.Await(w.ctx, func() bool { return w.delivered() >= 2 }, 10*time.Second); !ok {
		t.Fatalf("the caregiver got %d messages, want 2", w.delivered())
	}
	if d := w.deliveredSince(1); d[0].area != 1 {
		t.Fatalf("the publish during the move was delivered in area %d, want 1", d[0].area)
	}
}

// resumeHolder is a mote's socket that, once armed, records the datagrams
// from HO-RESUME on and holds HO-RESUMED back until a PUBLISH followed
// HO-RESUME (or 5 s of emulated time passed).
type resumeHolder struct {
	clk       clock.Clock
	armed     atomic.Bool
	resumeOut chan struct{} // closed when HO-RESUME left
	pubOut    chan struct{} // closed when a PUBLISH left after it
	mu        sync.Mutex
	seq       []string
}

func (h *resumeHolder) wrap(c net.PacketConn) net.PacketConn { return &holdingConn{c, h} }

func (h *resumeHolder) sequence() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seq)
}

// note records m once HO-RESUME has left (and tells the test of HO-RESUME
// and of the first PUBLISH behind it).
func (h *resumeHolder) note(dir string, m mqttsn.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	resumed := len(h.seq) > 0
	switch {
	case !resumed && dir == "→" && m.Type() == mqttsn.TypeHOResume:
		close(h.resumeOut)
	case !resumed:
		return
	case dir == "→" && m.Type() == mqttsn.TypePublish && !slices.Contains(h.seq, "→PUBLISH"):
		close(h.pubOut)
	}
	h.seq = append(h.seq, dir+m.Type().String())
}

type holdingConn struct {
	net.PacketConn
	h *resumeHolder
}

func (c *holdingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if m, err := mqttsn.DecodeDatagram(b); err == nil && c.h.armed.Load() {
		c.h.note("→", m)
	}
	return c.PacketConn.WriteTo(b, a)
}

func (c *holdingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	if err != nil || !c.h.armed.Load() {
		return n, a, err
	}
	m, derr := mqttsn.DecodeDatagram(b[:n])
	if derr != nil {
		return n, a, err
	}
	if m.Type() == mqttsn.TypeHOResumed {
		timeout := make(chan struct{})
		t := c.h.clk.AfterFunc(5*time.Second, func() { close(timeout) })
		select {
		case <-c.h.pubOut:
		case <-timeout:
		}
		t.Stop()
	}
	c.h.note("←", m)
	return n, a, err
}
