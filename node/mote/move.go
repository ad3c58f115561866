package mote

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
)

// MoveRecord is one move of the mote's session to another area's gateway.
type MoveRecord struct {
	At      time.Time     `json:"at"`             // on the mote's clock, when the move began
	From    string        `json:"from,omitempty"` // gateway addresses
	To      string        `json:"to"`
	Resumed bool          `json:"resumed"` // HO-RESUMED accepted; else a full connect
	Reason  string        `json:"reason,omitempty"`
	Took    time.Duration `json:"took"` // until the mote could publish again
	Err     string        `json:"err,omitempty"`
	// Energy and Frames are the mote's accounting when the move began, to
	// measure what followed from (Snapshot().Sub(r.Energy)).
	Energy energy.Snapshot `json:"-"`
	Frames FrameCounts     `json:"-"`
}

// maxMoveHistory bounds Moves.
const maxMoveHistory = 256

// Move moves the mote's session to another gateway: the one gw names (a
// UDPTransport is pointed there, as UDPTransport.SetGateway does), or,
// with gw nil, the one the transport names now (a mesh mote: the root of
// the DODAG it joined). It resumes the session there with the handover
// client (HO-RESUME with the home gateway and the token from its last
// connect, gateway/handoverclient), keeping its client id, topic ids and
// keys, and falls back to a full connect when the resume fails (or always,
// with Config.NoHandover). A publish in flight is sent again at the new
// gateway. It returns the move's record, or ok false when the mote was
// connected there already (or never connected: then it just connects).
func (m *Mote) Move(ctx context.Context, gw net.Addr) (rec MoveRecord, ok bool, err error) {
	if gw != nil {
		u, isUDP := m.cfg.Transport.(*UDPTransport)
		if !isUDP {
			return MoveRecord{}, false, errors.New("mote: Move to an address needs a UDP transport; a mesh mote follows its DODAG")
		}
		u.setGateway(gw)
	}
	before := m.moveCount()
	err = m.Connect(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stats.Moves == before || len(m.moves) == 0 {
		return MoveRecord{}, false, err
	}
	return m.moves[len(m.moves)-1], true, err
}

// Moves returns the record of the mote's moves so far (the last 256).
func (m *Mote) Moves() []MoveRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MoveRecord(nil), m.moves...)
}

func (m *Mote) moveCount() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats.Moves
}

// connected reports whether the mote has a session somewhere (or had one:
// a lost connection still has a session at its gateway to resume).
func (m *Mote) connected() bool {
	n := m.ho.Load()
	return n != nil && (n.Client().State() != client.StateDisconnected || n.Token() != nil)
}

// moveLocked runs one move with connMu and moveMu held. A resume of an
// active session lets go of connMu once HO-RESUME is out (resumeSent), so
// that a publish that starts meanwhile goes out right behind it, as the
// handover client allows (the visited gateway holds it until the session
// is in), instead of after HO-RESUMED: one downlink datagram less to wait
// for, a channel check on a duty-cycled radio. It reports whether connMu
// is still held.
func (m *Mote) moveLocked(ctx context.Context, n *handoverclient.Node, gw net.Addr) (held bool) {
	m.cfg.Transport.sync()
	m.advance()
	rec := MoveRecord{At: m.clk.Now(), To: gw.String(), Energy: m.meter.Snapshot(), Frames: m.acct.counts()}
	if from := n.Client().Gateway(); from != nil {
		rec.From = from.String()
	}
	if m.cfg.NoHandover {
		n.ForgetToken()
	}
	// A full reconfiguration keeps connMu: its publishes wait for the new
	// payload key fetched below.
	early := !m.cfg.NoHandover && n.Client().State() == client.StateActive
	m.holdConn.Store(early)
	res := n.Move(ctx, gw)
	held = !early || m.holdConn.Swap(false)
	rec.Resumed, rec.Took = res.Resumed, res.Took
	if !res.Resumed {
		rec.Reason = res.Reason.String()
	}
	if res.Err != nil {
		rec.Err = res.Err.Error()
	}
	if m.cfg.NoHandover && res.Err == nil {
		// A node without handover starts a new session at the new
		// gateway, and a new session is a new payload key: it fetches one
		// before it publishes (the full reconfiguration the handover
		// spares: CONNECT, admission, REGISTER, key).
		if p, ok := m.prot.(*tsSession); ok {
			t0 := m.clk.Now()
			if err := p.renew(ctx); err != nil {
				rec.Err = "new payload key: " + err.Error()
				m.setError(err)
			} else {
				m.mu.Lock()
				m.stats.KeyRenewals++
				m.mu.Unlock()
			}
			rec.Took += m.clk.Since(t0)
		}
	}
	m.mu.Lock()
	m.stats.Moves++
	switch {
	case res.Resumed:
		m.stats.Handovers++
	case res.Err == nil:
		m.stats.Fallbacks++
		m.stats.Connects++
	default:
		m.stats.Fallbacks++
		m.stats.ConnectFailures++
	}
	if len(m.moves) == maxMoveHistory {
		m.moves = append(m.moves[:0], m.moves[1:]...)
	}
	m.moves = append(m.moves, rec)
	f := m.cfg.OnMove
	m.mu.Unlock()
	m.cfg.Logger.Debug("mote: moved", "id", m.cfg.ID, "to", rec.To, "resumed", rec.Resumed, "reason", rec.Reason, "took", rec.Took)
	if f != nil {
		f(rec)
	}
	return held
}

// resumeSent is the handover client's OnResumeSent: the move under way lets
// go of connMu.
func (m *Mote) resumeSent() {
	if m.holdConn.CompareAndSwap(true, false) {
		m.connMu.Unlock()
	}
}

// transportMoved is the transport's hook: the gateway may have changed.
func (m *Mote) transportMoved() {
	m.mu.Lock()
	close(m.wake)
	m.wake = make(chan struct{})
	m.mu.Unlock()
}

// follow moves the session whenever the transport says the gateway may
// have changed, so that a publish stuck at the old gateway goes out again
// at the new one at once (Run starts it).
func (m *Mote) follow(ctx context.Context) {
	wake := m.wakeChan()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		// Taken before the move: a change told while it runs wakes the
		// next round at once.
		wake = m.wakeChan()
		if !m.connected() {
			continue // Run's first connect is under way
		}
		if err := m.Connect(ctx); err != nil && ctx.Err() == nil {
			m.setError(err)
		}
	}
}

func (m *Mote) wakeChan() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wake
}

// onAdvertise follows another gateway's ADVERTISE (Config.FollowAdvertise).
func (m *Mote) onAdvertise(g client.Gateway) {
	u, ok := m.cfg.Transport.(*UDPTransport)
	if !ok || g.Addr == nil || sameAddr(g.Addr, u.Gateway()) {
		return
	}
	u.SetGateway(g.Addr)
}

// HasToken reports whether the mote holds a session token from its
// gateway, with which it can resume its session in another area.
func (m *Mote) HasToken() bool {
	n := m.ho.Load()
	return n != nil && n.Token() != nil
}
