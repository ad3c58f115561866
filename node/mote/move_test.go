package mote_test

import (
	"context"
	"net"
	"testing"
	"time"

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
