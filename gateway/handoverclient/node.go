package handoverclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// Config configures a Node.
type Config struct {
	// Client configures the MQTT-SN client (client id, keep-alive, clean
	// session, Tretry/Nretry, clock, callbacks). Its OnUnsolicited is called
	// too, after the Node has looked at the message.
	Client client.Config
	// Prove answers a Trusted System challenge with the node's proof of its
	// pre-shared secret (tsclient.Prove with the node's credentials). It
	// answers the gateway's TS-CHALLENGE during a full connect and proves
	// the node in HO-RESUME when the visited gateway asks for it (the
	// challenge is then the token's first 16 octets and the visited
	// gateway's name). Nil: the node cannot prove (open gateways only).
	Prove func(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error)
	// AlwaysProve puts a fresh proof in every HO-RESUME to a gateway whose
	// name the node knows, instead of only when asked: one HMAC more per
	// move, and the visited gateway asks the Trusted System itself.
	AlwaysProve bool
	// Topics are registered (REGISTER) by every full connect, so that
	// their ids are known before the first publish.
	Topics []string
	// Subscriptions are made (SUBSCRIBE) by every full connect; a resume
	// keeps them.
	Subscriptions []Subscription
	// WaitForResumed makes publishes wait for HO-RESUMED. By default they go
	// out right behind HO-RESUME and the visited gateway holds them until
	// the session is installed, which saves the node a wait for a downlink
	// datagram (half a MAC channel-check interval on average) per move; if
	// the resume fails they are sent again after the full connect.
	WaitForResumed bool
	// OnResumeSent, if set, is called on Move's goroutine right after the
	// first HO-RESUME of a resume left and publishes may follow it (not
	// with WaitForResumed): whoever serialises its own work around Move
	// can let its publishes through from then on, as Move waits for
	// HO-RESUMED.
	OnResumeSent func()
	// KnownGateways maps gateway addresses (net.Addr.String()) to their
	// names, for AlwaysProve before the node has heard from them. The Node
	// learns more from HO-TOKEN and HO-RESUMED.
	KnownGateways map[string]string
}

// Subscription is a subscription made at every full connect.
type Subscription struct {
	Topic client.Topic
	QoS   mqttsn.QoS
}

// Result says how a Move ended.
type Result struct {
	// Resumed: the visited gateway took the session over (HO-RESUMED
	// accepted). Otherwise the node connected afresh, unless Err is set.
	Resumed bool
	// Reason is why the node did not resume: the visited gateway's
	// HO-RESUMED status, HOUnreachable when it did not answer, or
	// HOBadToken when the node held no usable token.
	Reason mqttsn.HOStatus
	// Proved: the node computed a proof of its secret for the resume.
	Proved bool
	// Took is the time from Move's start until the node could publish
	// again, on the client's clock.
	Took time.Duration
	// Err is set when neither the resume nor the full connect succeeded.
	Err error
}

// Stats count what a Node did.
type Stats struct {
	Resumes      uint64 // moves that resumed
	FullConnects uint64 // full connects (the first one and every fallback)
	Fallbacks    uint64 // moves that fell back to a full connect
	Proofs       uint64 // proofs computed for resumes
	Republished  uint64 // publishes sent again after a move interrupted them
}

// ErrNoToken is returned by WaitToken when ctx ends before the gateway
// gave the node a token.
var ErrNoToken = errors.New("handoverclient: no session token")

// Node is a moving node's MQTT-SN client with session handover.
type Node struct {
	cfg Config
	c   *client.Client
	clk clock.Clock

	resumed chan *mqttsn.HOResumed // HO-RESUMED from the current gateway

	mu       sync.Mutex
	token    *mqttsn.HOToken
	tokenCh  chan struct{} // closed when a token arrives
	names    map[string]string
	ready    chan struct{} // closed while publishes may go out
	settled  chan struct{} // closed when the last Move ended
	gen      uint64        // incremented by every Move
	inflight map[uint64]context.CancelFunc
	idle     *sync.Cond // signalled when inflight empties
	nextPub  uint64
	stats    Stats
}

// New starts a node's client that talks to the gateway at gw over conn; call
// Connect next. The caller keeps conn and closes it after Close.
func New(conn net.PacketConn, gw net.Addr, cfg Config) *Node {
	n := &Node{cfg: cfg, resumed: make(chan *mqttsn.HOResumed, 1), tokenCh: make(chan struct{}),
		names: map[string]string{}, ready: make(chan struct{}), inflight: map[uint64]context.CancelFunc{}}
	for a, name := range cfg.KnownGateways {
		n.names[a] = name
	}
	close(n.ready)
	n.settled = make(chan struct{})
	close(n.settled)
	n.idle = sync.NewCond(&n.mu)
	ccfg := cfg.Client
	user := ccfg.OnUnsolicited
	ccfg.OnUnsolicited = func(m mqttsn.Message, from net.Addr) {
		n.onUnsolicited(m, from)
		if user != nil {
			user(m, from)
		}
	}
	n.clk = ccfg.Clock
	if n.clk == nil {
		n.clk = clock.Real{}
	}
	n.c = client.New(conn, gw, ccfg)
	return n
}

// Client returns the MQTT-SN client (for Subscribe, Sleep, Wake, Stats...).
func (n *Node) Client() *client.Client { return n.c }

// Close stops the client (see client.Client.Close).
func (n *Node) Close() error { return n.c.Close() }

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// Token returns the session token the node holds, or nil.
func (n *Node) Token() *mqttsn.HOToken {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.token
}

// WaitToken waits until the node holds a session token from its current
// gateway.
func (n *Node) WaitToken(ctx context.Context) error {
	n.mu.Lock()
	ch, ok := n.tokenCh, n.token != nil
	n.mu.Unlock()
	if ok {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ErrNoToken
	}
}

func (n *Node) onUnsolicited(m mqttsn.Message, from net.Addr) {
	fromGW := sameAddr(from, n.c.Gateway())
	switch m := m.(type) {
	case *mqttsn.TSChallenge:
		if !fromGW || n.cfg.Prove == nil {
			return
		}
		// The admission challenge of a full connect (between CONNECT and CONNACK).
		if p, err := n.cfg.Prove(m); err == nil {
			_ = n.c.Send(p)
		}
	case *mqttsn.HOToken:
		if fromGW {
			n.setToken(from, &mqttsn.HOToken{Expiry: m.Expiry, Home: m.Home, Token: m.Token})
		}
	case *mqttsn.HOResumed:
		if fromGW {
			select {
			case n.resumed <- m:
			default:
			}
		}
	}
}

func (n *Node) setToken(from net.Addr, t *mqttsn.HOToken) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.token = t
	if from != nil {
		n.names[from.String()] = string(t.Home)
	}
	select {
	case <-n.tokenCh:
	default:
		close(n.tokenCh)
	}
}

// ForgetToken drops the node's session token: its next Move connects
// afresh (for a node that knows its session is gone, or to measure).
func (n *Node) ForgetToken() { n.clearToken() }

func (n *Node) clearToken() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.token = nil
	select {
	case <-n.tokenCh:
		n.tokenCh = make(chan struct{})
	default:
	}
}

// Connect connects in full to the current gateway: CONNECT (answering the
// admission challenge with Prove), REGISTER of Config.Topics, SUBSCRIBE of
// Config.Subscriptions.
func (n *Node) Connect(ctx context.Context) error {
	n.clearToken()
	n.mu.Lock()
	n.stats.FullConnects++
	n.mu.Unlock()
	if err := n.c.Connect(ctx); err != nil {
		return err
	}
	for _, t := range n.cfg.Topics {
		if _, err := n.c.Register(ctx, t); err != nil {
			return err
		}
	}
	for _, s := range n.cfg.Subscriptions {
		if _, err := n.c.Subscribe(ctx, s.Topic, s.QoS); err != nil {
			return err
		}
	}
	return nil
}

// Move switches the node to the gateway at gw, the one of the area it just
// entered: it resumes its session there if it can, and connects afresh if
// not. Publishes wait meanwhile (see Config.Optimistic); one that was in
// flight is sent again at gw.
func (n *Node) Move(ctx context.Context, gw net.Addr) Result {
	start := n.clk.Now()
	settled := make(chan struct{})
	defer close(settled)
	n.mu.Lock()
	n.gen++
	n.settled = settled
	select {
	case <-n.ready:
		n.ready = make(chan struct{})
	default:
	}
	tok := n.token
	n.mu.Unlock()
	n.cancelInflight()
	n.c.SetGateway(gw)
	defer n.openGate()

	res := Result{Reason: mqttsn.HOBadToken}
	if tok != nil && (tok.Expiry == 0 || n.clk.Now().Unix() < int64(tok.Expiry)) {
		st, proved, err := n.resume(ctx, tok, gw)
		res.Proved = proved
		if err == nil && st == mqttsn.HOAccepted {
			res.Resumed, res.Reason, res.Took = true, mqttsn.HOAccepted, n.clk.Since(start)
			n.mu.Lock()
			n.stats.Resumes++
			n.mu.Unlock()
			return res
		}
		if ctx.Err() != nil {
			res.Err = ctx.Err()
			return res
		}
		res.Reason = st
	} else if tok != nil {
		res.Reason = mqttsn.HOExpired
	}
	// Fall back to a full connect: whatever went out behind HO-RESUME is
	// sent again afterwards. A new generation makes the publishes cancelled
	// below count as interrupted by the move (Publish sends them again once
	// the node is connected) rather than fail.
	n.mu.Lock()
	n.gen++
	n.stats.Fallbacks++
	select {
	case <-n.ready:
		n.ready = make(chan struct{})
	default:
	}
	n.mu.Unlock()
	n.cancelInflight()
	// A stale DISCONNECT arriving mid-connect (e.g. for a keep-alive
	// PINGREQ that left before the CONNECT) no longer ends it: mqttsn/client
	// ignores a DISCONNECT while awaiting CONNACK, so no retry is needed here.
	res.Err = n.Connect(ctx)
	res.Took = n.clk.Since(start)
	return res
}

func (n *Node) openGate() {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.ready:
	default:
		close(n.ready)
	}
}

// resume runs HO-RESUME → HO-RESUMED with gw, proving the node's secret
// when asked (or always, with AlwaysProve).
func (n *Node) resume(ctx context.Context, tok *mqttsn.HOToken, gw net.Addr) (st mqttsn.HOStatus, proved bool, err error) {
	n.mu.Lock()
	name := n.names[gw.String()]
	n.mu.Unlock()
	var proof []byte
	if n.cfg.AlwaysProve && name != "" {
		if proof, err = n.prove(tok, name); err == nil {
			proved = true
		}
	}
	for {
		m := &mqttsn.HOResume{Asleep: n.c.State() == client.StateAsleep, ClientID: []byte(n.c.ClientID()),
			Home: tok.Home, Token: tok.Token, Proof: proof}
		r, err := n.exchangeResume(ctx, m)
		if err != nil {
			return mqttsn.HOUnreachable, proved, err
		}
		if r.Status == mqttsn.HOAccepted {
			n.setToken(gw, &mqttsn.HOToken{Expiry: r.Expiry, Home: r.Home, Token: r.Token})
			return mqttsn.HOAccepted, proved, nil
		}
		if r.Status != mqttsn.HOProofRequired || proof != nil || n.cfg.Prove == nil {
			return r.Status, proved, nil
		}
		if proof, err = n.prove(tok, string(r.Home)); err != nil {
			return r.Status, proved, nil
		}
		proved = true
	}
}

func (n *Node) prove(tok *mqttsn.HOToken, gateway string) ([]byte, error) {
	if n.cfg.Prove == nil || len(tok.Token) < mqttsn.HOTokenMinLen {
		return nil, errors.New("handoverclient: cannot prove")
	}
	p, err := n.cfg.Prove(&mqttsn.TSChallenge{Challenge: tok.Token[:mqttsn.HOChallenge], Gateway: []byte(gateway)})
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.stats.Proofs++
	n.mu.Unlock()
	return p.Proof, nil
}

// exchangeResume sends m and waits for HO-RESUMED, retransmitting every
// Tretry, at most Nretry times (MQTT-SN v1.2 §6.13 applied to HO-RESUME).
func (n *Node) exchangeResume(ctx context.Context, m *mqttsn.HOResume) (*mqttsn.HOResumed, error) {
	select {
	case <-n.resumed: // a stale answer
	default:
	}
	interval, retries := n.cfg.Client.RetryInterval, n.cfg.Client.MaxRetries
	if interval <= 0 {
		interval = client.DefaultRetryInterval
	}
	if retries <= 0 {
		retries = client.DefaultMaxRetries
	}
	for try := 0; ; try++ {
		tick := make(chan struct{})
		t := n.clk.AfterFunc(interval, func() { close(tick) })
		if err := n.c.Send(m); err != nil {
			t.Stop()
			return nil, err
		}
		if try == 0 && !n.cfg.WaitForResumed {
			n.openGate()
			if f := n.cfg.OnResumeSent; f != nil {
				f()
			}
		}
		select {
		case r := <-n.resumed:
			t.Stop()
			return r, nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-tick:
		}
		if try >= retries {
			return nil, &client.TimeoutError{Type: mqttsn.TypeHOResume, Retries: retries}
		}
	}
}

// Publish publishes data to the named topic (registering it first if
// needed) and returns when the gateway acknowledged it (QoS 1, 2) or it was
// sent (QoS 0). A move while it is in flight makes it go out again at the
// new gateway; a move before it waits for the node to be connected there.
func (n *Node) Publish(ctx context.Context, topic string, qos mqttsn.QoS, retain bool, data []byte) error {
	for {
		n.mu.Lock()
		ready, gen := n.ready, n.gen
		n.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		pctx, cancel := context.WithCancel(ctx)
		id, ok := n.track(cancel, gen)
		if !ok {
			cancel()
			continue // a move began meanwhile
		}
		err := n.c.Publish(pctx, client.Named(topic), qos, retain, data)
		n.untrack(id)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		n.mu.Lock()
		movedNow := n.gen != gen
		if movedNow {
			n.stats.Republished++
		}
		n.mu.Unlock()
		if movedNow {
			// A move began while it was in flight (and cancelled it): send
			// it again as soon as the move lets publishes through, right
			// behind HO-RESUME (the visited gateway holds it until the
			// session is in), not after HO-RESUMED. If the resume fails,
			// the fallback cancels it once more and it goes out after the
			// full connect.
			continue
		}
		// A publish that went out right behind HO-RESUME can fail before
		// the move has decided: the visited gateway may answer it with
		// DISCONNECT once it refused the resume, and that reaches the
		// client before the Node has read the refusal. Whether the move
		// interrupted it is known once the move ended.
		n.mu.Lock()
		settled := n.settled
		n.mu.Unlock()
		select {
		case <-settled:
		case <-ctx.Done():
			return ctx.Err()
		}
		n.mu.Lock()
		moved := n.gen != gen
		if moved {
			n.stats.Republished++
		}
		n.mu.Unlock()
		if !moved {
			return err
		}
	}
}

// track registers a publish about to start, if no move began since gen.
func (n *Node) track(cancel context.CancelFunc, gen uint64) (uint64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.ready:
	default:
		return 0, false
	}
	if n.gen != gen {
		return 0, false
	}
	n.nextPub++
	n.inflight[n.nextPub] = cancel
	return n.nextPub, true
}

func (n *Node) untrack(id uint64) {
	n.mu.Lock()
	delete(n.inflight, id)
	if len(n.inflight) == 0 {
		n.idle.Broadcast()
	}
	n.mu.Unlock()
}

// cancelInflight cancels the publishes in flight and waits until they
// returned, so that none of them reaches the next gateway before HO-RESUME.
func (n *Node) cancelInflight() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, f := range n.inflight {
		f()
	}
	for len(n.inflight) > 0 {
		n.idle.Wait()
	}
}

func sameAddr(a, b net.Addr) bool {
	return a != nil && b != nil && a.Network() == b.Network() && a.String() == b.String()
}
