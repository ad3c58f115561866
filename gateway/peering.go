package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Peering: the gateways of neighbouring areas hand a moving node's session
// over to one another (docs/protocol.md "Handover"). Each gateway has a name
// and a list of peers (name, peer-socket address, shared key); they talk
// over UDP on a socket of their own (ServePeers), separate from the one the
// nodes use:
//
//   - a session transfer is larger than what a node may send (MaxDatagram,
//     1024 octets by default) and can reach 64 KiB;
//   - a gateway served only through its border router's PacketConn has no
//     UDP socket its peers could reach on the clients' side;
//   - peer traffic is authenticated, counted and dropped on its own, and a
//     node can never get a datagram into the peer path (nor the reverse).
//
// Every peer message carries the sender's name, its clock (Unix ms) and a
// random nonce, and ends with a MAC (HMAC-SHA256 truncated to 16 octets)
// under the key shared with that peer. The receiver drops, and counts by
// reason, anything from an unknown peer, with a bad MAC, outside the replay
// window or with a nonce it has seen within the window.

// PeeringConfig configures handover with neighbouring gateways
// (Config.Peering). The zero value of every optional field means its
// default.
type PeeringConfig struct {
	// Name is this gateway's name: 1–23 printable ASCII characters without
	// space, '/', '+', '#' (a Trusted System name; with admission on, the
	// gateway's registered name, as the Authenticator uses it).
	Name string
	// Peers are the gateways this one hands sessions to and takes them from.
	Peers []Peer

	// TokenKey MACs the session tokens this gateway issues (at least 16
	// octets). Default: 32 random octets at New (tokens then die with the
	// process, as its sessions do without a Store).
	TokenKey []byte
	// TokenTTL is how long a node's session token stays valid. Default 1 h.
	TokenTTL time.Duration

	// Verifier asks the Trusted System about a node's proof of its
	// pre-shared secret. Nil: proofs cannot be checked, so a resume that
	// carries one, or that needs one, is refused (HOProofRequired) and the
	// node connects afresh.
	Verifier ProofVerifier
	// ProofMaxAge bounds how long ago the Trusted System must last have
	// verified a node's proof for a resume without a fresh proof to be
	// accepted, when neither gateway can ask the TS about the node's last
	// admission (see docs/protocol.md "Admission on resume"). Default 10 min;
	// negative: no bound.
	ProofMaxAge time.Duration

	// ReplayWindow is how far a peer message's time may be from this
	// gateway's clock. Default 30 s.
	ReplayWindow time.Duration
	// RetryInterval and MaxRetries govern peer requests (HO-FETCH,
	// HO-TRANSFER, HO-FORWARD): unanswered after RetryInterval they are sent
	// again, at most MaxRetries times. Defaults 500 ms and 3.
	RetryInterval time.Duration
	MaxRetries    int
	// MaxForward bounds the late messages one HO-FORWARD carries. Default 32.
	MaxForward int

	// OnEvent, when set, is told about every handover step (for logs,
	// simulations and tests). It is called with the gateway's lock held: it
	// must not block nor call the gateway (hand the event to a channel).
	OnEvent func(HandoverEvent)
	// NotifyStarted, when set, is called when ServePeers starts reading.
	NotifyStarted func(pc net.PacketConn)
}

// HandoverEvent is one step of a handover, as seen by one gateway.
type HandoverEvent struct {
	Kind     EventKind
	ClientID string
	Peer     string          // the other gateway ("" for the node's own home)
	Status   mqttsn.HOStatus // refusals: why
}

// EventKind names a handover step.
type EventKind uint8

const (
	EventResumed     EventKind = iota + 1 // visited: the node resumed here
	EventRefused                          // visited: the node's resume was refused (Status)
	EventTransferred                      // home: the session left for Peer (fetched or pushed)
	EventConfirmed                        // home: Peer confirmed; the session is gone from here
	EventReinstated                       // home: the transfer failed (Status); the session stays
	EventPushedIn                         // visited: Peer pushed a session here ahead of the node
	EventForwarded                        // home: late messages forwarded to Peer
	EventForwardIn                        // visited: late messages received from Peer
)

var eventNames = [...]string{"", "resumed", "refused", "transferred", "confirmed", "reinstated", "pushed-in", "forwarded", "forward-in"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k > 0 {
		return eventNames[k]
	}
	return "invalid"
}

// Peer is a neighbouring gateway.
type Peer struct {
	Name string
	// Addr is the peer's peer socket (what it serves with ServePeers), e.g.
	// "10.0.3.1:1884" or "[fd00::3]:1884".
	Addr string
	// Key is shared with that peer only; at least 16 octets, from crypto/rand.
	Key []byte
}

// ProofVerifier checks, with the Trusted System, a node's proof of its
// pre-shared secret for challenge at the named gateway (the TS admission
// proof, docs/protocol.md "Trusted System messages"). It returns nil only
// when the TS admits the node (registered, not revoked, proof good), an
// error wrapping ErrNotAdmitted when the TS refuses it, and any other error
// when the TS could not be asked.
type ProofVerifier interface {
	VerifyProof(ctx context.Context, gateway, clientID string, challenge, proof []byte) error
}

// VerifyProofFunc adapts a function to ProofVerifier.
type VerifyProofFunc func(ctx context.Context, gateway, clientID string, challenge, proof []byte) error

// VerifyProof calls f.
func (f VerifyProofFunc) VerifyProof(ctx context.Context, gateway, clientID string, challenge, proof []byte) error {
	return f(ctx, gateway, clientID, challenge, proof)
}

// ErrNotAdmitted is what a ProofVerifier's error wraps when the Trusted
// System refused the node.
var ErrNotAdmitted = errors.New("gateway: node not admitted by the Trusted System")

// Errors of the handover API.
var (
	// ErrNoPeering: the gateway was configured without Config.Peering.
	ErrNoPeering = errors.New("gateway: peering not configured")
	// ErrUnknownPeer: no peer of that name.
	ErrUnknownPeer = errors.New("gateway: unknown peer")
	// ErrNoPeerSocket: ServePeers is not running.
	ErrNoPeerSocket = errors.New("gateway: no peer socket served")
)

const minKeyLen = 16

func (c *PeeringConfig) setDefaults() error {
	if !mqttsn.ValidTSName(c.Name) {
		return fmt.Errorf("gateway: peering name %q: 1-23 printable characters without space, '/', '+', '#'", c.Name)
	}
	seen := map[string]bool{c.Name: true}
	for i, p := range c.Peers {
		if !mqttsn.ValidTSName(p.Name) {
			return fmt.Errorf("gateway: peer %d: invalid name %q", i, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("gateway: peer %q listed twice or named like this gateway", p.Name)
		}
		seen[p.Name] = true
		if len(p.Key) < minKeyLen {
			return fmt.Errorf("gateway: peer %q: key shorter than %d octets", p.Name, minKeyLen)
		}
		if p.Addr == "" {
			return fmt.Errorf("gateway: peer %q: no address", p.Name)
		}
	}
	if c.TokenKey == nil {
		c.TokenKey = make([]byte, 32)
		if _, err := rand.Read(c.TokenKey); err != nil {
			return err
		}
	} else if len(c.TokenKey) < minKeyLen {
		return fmt.Errorf("gateway: peering token key shorter than %d octets", minKeyLen)
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if c.ProofMaxAge == 0 {
		c.ProofMaxAge = 10 * time.Minute
	}
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = 30 * time.Second
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 500 * time.Millisecond
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 3
	}
	if c.MaxForward <= 0 {
		c.MaxForward = 32
	}
	return nil
}

// peerGW is a configured peer at run time. Guarded by Gateway.mu.
type peerGW struct {
	name   string
	key    []byte
	addr   string
	ua     *net.UDPAddr // resolved on first send
	replay replayWindow // nonces seen within the window

	fwdRecent []uint32 // the last HO-FORWARD Seqs received from this peer
	fwdPos    int
}

// ServePeers reads peer messages from pc and answers on it until ctx ends or
// the gateway is closed; then it returns nil. One peer socket is served at a
// time. Serve does not close pc, but sets its read deadline to stop reading.
func (g *Gateway) ServePeers(ctx context.Context, pc net.PacketConn) error {
	h := g.ho
	if h == nil {
		return ErrNoPeering
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	if h.pc != nil {
		g.mu.Unlock()
		return errors.New("gateway: a peer socket is served already")
	}
	h.pc = pc
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()
	defer func() {
		g.mu.Lock()
		if h.pc == pc {
			h.pc = nil
		}
		g.mu.Unlock()
	}()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-g.ctx.Done():
		case <-stop:
			return
		}
		_ = pc.SetReadDeadline(time.Unix(1, 0))
	}()
	if f := h.notifyStarted; f != nil {
		f(pc)
	}
	buf := make([]byte, mqttsn.MaxLen+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err == nil {
			h.handlePeerDatagram(buf[:n], addr)
			continue
		}
		if ctx.Err() != nil || g.ctx.Err() != nil {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		return err
	}
}

// PeerAddr returns the address of the peer socket being served, or nil.
func (g *Gateway) PeerAddr() net.Addr {
	if g.ho == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ho.pc == nil {
		return nil
	}
	return g.ho.pc.LocalAddr()
}

// peerParts returns the header and the MAC field of a peer message, or nil.
func peerParts(m mqttsn.Message) (*mqttsn.PeerHeader, *[]byte) {
	switch m := m.(type) {
	case *mqttsn.HOFetch:
		return &m.Hdr, &m.MAC
	case *mqttsn.HOTransfer:
		return &m.Hdr, &m.MAC
	case *mqttsn.HOConfirm:
		return &m.Hdr, &m.MAC
	case *mqttsn.HORefuse:
		return &m.Hdr, &m.MAC
	case *mqttsn.HOForward:
		return &m.Hdr, &m.MAC
	case *mqttsn.HOFwdAck:
		return &m.Hdr, &m.MAC
	}
	return nil, nil
}

// sendPeer signs m (a peer message) with a fresh header and writes it to
// p's address. Retransmissions go through it again, so each copy has its
// own nonce and time and passes the receiver's replay check; receivers
// recognise repeats by XID or Seq. Call with g.mu held.
func (h *handover) sendPeer(p *peerGW, m mqttsn.Message) bool {
	if h.pc == nil {
		h.peerDrop(peerDropNoSocket)
		return false
	}
	hd, macField := peerParts(m)
	if hd == nil {
		return false
	}
	hd.From = []byte(h.cfg.Name)
	hd.Time = uint64(h.g.clk.Now().UnixMilli())
	hd.Nonce = make([]byte, mqttsn.HONonceLen)
	if _, err := rand.Read(hd.Nonce); err != nil {
		return false
	}
	*macField = make([]byte, mqttsn.HOMACLen)
	b, err := m.AppendBinary(h.wbuf[:0])
	if err != nil {
		h.g.log.Warn("peer message not encoded", "type", m.Type(), "peer", p.name, "err", err)
		h.peerDrop(peerDropTooLarge)
		return false
	}
	h.wbuf = b[:0]
	ad, mac, _ := mqttsn.PeerAuthData(b)
	copy(mac, peerMAC(p.key, ad))
	if p.ua == nil {
		ua, err := net.ResolveUDPAddr("udp", p.addr)
		if err != nil {
			h.g.log.Warn("peer address", "peer", p.name, "addr", p.addr, "err", err)
			h.peerDrop(peerDropSendError)
			return false
		}
		p.ua = ua
	}
	if _, err := h.pc.WriteTo(b, p.ua); err != nil {
		h.g.log.Debug("peer write failed", "peer", p.name, "err", err)
		h.peerDrop(peerDropSendError)
		return false
	}
	h.m.peerOut.WithLabelValues(m.Type().String()).Inc()
	return true
}

// handlePeerDatagram authenticates one datagram from the peer socket and
// hands it to its handler. b is the read buffer; the handlers copy what
// they keep.
func (h *handover) handlePeerDatagram(b []byte, from net.Addr) {
	g := h.g
	ad, mac, err := mqttsn.PeerAuthData(b)
	if err != nil {
		h.peerDropf(peerDropMalformed, from, "not a peer message", "err", err)
		return
	}
	var hd mqttsn.PeerHeader
	name, ok := peekFrom(ad)
	if !ok {
		h.peerDropf(peerDropMalformed, from, "no sender name")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	p := h.peers[name]
	if p == nil {
		h.peerDropf(peerDropUnknownPeer, from, "message from an unknown gateway", "name", name)
		return
	}
	if !peerMACOK(p.key, ad, mac) {
		h.peerDropf(peerDropForged, from, "bad MAC", "peer", name)
		return
	}
	m, _, err := mqttsn.Decode(append([]byte(nil), b...))
	if err != nil {
		h.peerDropf(peerDropMalformed, from, "authenticated but malformed", "peer", name, "err", err)
		return
	}
	ph, _ := peerParts(m)
	if ph == nil || string(ph.From) != name {
		h.peerDropf(peerDropMalformed, from, "not a peer message", "peer", name)
		return
	}
	hd = *ph
	now := g.clk.Now()
	switch p.replay.check(now, int64(hd.Time), hd.Nonce, h.cfg.ReplayWindow) {
	case replayStale:
		h.peerDropf(peerDropStale, from, "outside the replay window", "peer", name, "time", hd.Time)
		return
	case replaySeen:
		h.peerDropf(peerDropReplay, from, "replayed nonce", "peer", name)
		return
	}
	h.m.peerIn.WithLabelValues(m.Type().String()).Inc()
	switch m := m.(type) {
	case *mqttsn.HOFetch:
		h.onFetch(p, m)
	case *mqttsn.HOTransfer:
		h.onTransfer(p, m)
	case *mqttsn.HOConfirm:
		h.onConfirm(p, m)
	case *mqttsn.HORefuse:
		h.onRefuse(p, m)
	case *mqttsn.HOForward:
		h.onForward(p, m)
	case *mqttsn.HOFwdAck:
		h.onFwdAck(p, m)
	}
}

// peekFrom reads the From field of a peer message's auth data (MsgType,
// then PeerHeader).
func peekFrom(ad []byte) (string, bool) {
	if len(ad) < 2 {
		return "", false
	}
	n := int(ad[1])
	if n < 1 || n > mqttsn.HONameMaxLen || len(ad) < 2+n {
		return "", false
	}
	return string(ad[2 : 2+n]), true
}

// retryTimer arms (or re-arms) t to call f after the peer retry interval.
func (h *handover) retryTimer(t clock.Timer, f func()) clock.Timer {
	if t == nil {
		return h.g.clk.AfterFunc(h.cfg.RetryInterval, f)
	}
	t.Reset(h.cfg.RetryInterval)
	return t
}
