package stack

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// Errors.
var (
	ErrClosed    = errors.New("stack: closed")
	ErrPortInUse = errors.New("stack: UDP port in use")
	ErrNoRadio   = errors.New("stack: no radio configured")
)

// Well-known multicast groups every node belongs to.
var (
	AllNodes    = netip.MustParseAddr("ff02::1")  // RFC 4291 §2.7.1
	AllRPLNodes = netip.MustParseAddr("ff02::1a") // RFC 6550 §20.19
)

// Stack is one node's network stack: 802.15.4 MAC with acknowledgments,
// 6LoWPAN (IPHC, fragmentation), IPv6 with RPL routing (non-storing mode,
// RFC 6554 source routes), ICMPv6 and UDP sockets. One mutex guards it all;
// radio deliveries and timers take it.
type Stack struct {
	cfg   Config
	clk   clock.Clock
	log   *slog.Logger
	radio medium.Radio

	mu      sync.Mutex
	closed  bool
	rng     *rand.Rand
	lladdr  ieee802154.Address // our extended MAC address
	ll      netip.Addr         // fe80::IID
	global  netip.Addr         // prefix::IID once joined
	ctx     *lowpan.ContextTable
	frag    *lowpan.Fragmenter
	reasm   *lowpan.Reassembler
	mac     mac
	duty    *dutyCycle // nil: the radio is always on
	rpl     *dodag.DODAG
	socks   map[uint16]*UDPConn
	anycast []netip.Addr // extra local unicast addresses (root only)
	cnt     Counters
	bad     map[string]uint64
}

// New builds a stack on cfg.Radio and starts RPL (it begins soliciting
// DIOs, or, as root, sending them).
func New(cfg Config) (*Stack, error) {
	cfg.defaults()
	if cfg.Radio == nil {
		return nil, ErrNoRadio
	}
	s := &Stack{
		cfg:    cfg,
		clk:    cfg.Clock,
		log:    cfg.Logger,
		radio:  cfg.Radio,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x737461636b)),
		lladdr: ieee802154.Ext(cfg.Addr),
		ctx:    &lowpan.ContextTable{},
		socks:  make(map[uint16]*UDPConn),
		bad:    make(map[string]uint64),
	}
	s.cnt.Drops = make(map[string]uint64)
	s.ll = lowpan.LinkLocal(s.lladdr)
	if cfg.ChannelCheckInterval > 0 {
		s.duty = newDutyCycle(cfg.ChannelCheckInterval, cfg.Seed, s.clk.Now())
		if !cfg.RPL.Root {
			s.duty.force(forcedUnjoined, s.clk.Now())
		}
	}
	// A random first sequence number, so that neighbours' counters do not
	// march in step and an overheard acknowledgment rarely matches ours.
	s.mac.seq = uint8(s.rng.Uint32())
	s.frag = lowpan.NewFragmenter(s.ctx, uint16(s.rng.Uint32()))
	s.reasm = lowpan.NewReassembler(lowpan.ReassemblerConfig{
		MaxDatagrams: cfg.ReassemblyBuffers, Timeout: cfg.ReassemblyTimeout,
		Clock: cfg.Clock, Contexts: s.ctx,
	})
	rc := cfg.RPL
	rc.Clock = cfg.Clock
	rc.Locker = &s.mu
	if rc.Seed == 0 {
		rc.Seed = cfg.Seed ^ 0x52504c
	}
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	d, err := dodag.New(rc, (*host)(s), s.lladdr)
	if err != nil {
		return nil, err
	}
	s.rpl = d
	s.radio.SetReceiver(func(psdu []byte, _ medium.RxInfo) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.macInput(psdu)
		}
	})
	s.mu.Lock()
	s.rpl.Start()
	if s.duty != nil {
		s.scheduleListenFlush()
	}
	s.mu.Unlock()
	return s, nil
}

// Close stops RPL, closes every socket and the radio. It is idempotent.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.rpl.Stop()
	if s.mac.timer != nil {
		s.mac.timer.Stop()
	}
	if s.mac.kickT != nil {
		s.mac.kickT.Stop()
	}
	if s.duty != nil && s.duty.flushT != nil {
		s.duty.flushT.Stop()
	}
	s.mac.queue, s.mac.inflight = nil, nil
	socks := s.socks
	s.socks = map[uint16]*UDPConn{}
	s.mu.Unlock()
	for _, c := range socks {
		c.Close()
	}
	return s.radio.Close()
}

// LinkAddr returns the node's 802.15.4 extended address.
func (s *Stack) LinkAddr() ieee802154.Address { return s.lladdr }

// LinkLocal returns the node's fe80:: address.
func (s *Stack) LinkLocal() netip.Addr { return s.ll }

// GlobalAddr returns the address formed from the DODAG's prefix, once joined.
func (s *Stack) GlobalAddr() (netip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.global, s.global.IsValid()
}

// WithRPL runs f with the stack's lock held, for the DODAG methods that
// need it (package dodag's locking rule).
func (s *Stack) WithRPL(f func(*dodag.DODAG)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		f(s.rpl)
	}
}

// Routes lists the root's routes (empty on a node).
func (s *Stack) Routes() []dodag.Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rpl.Routes()
}

// Status is a snapshot of the node's RPL state.
func (s *Stack) Status() dodag.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rpl.Status()
}

// Root returns the address of the DODAG root (the DODAGID), where the
// area's border router and gateway are reached, once joined.
func (s *Stack) Root() (netip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.rpl.Status()
	return st.DODAGID, st.Joined
}

// AddAnycast makes a unicast address local to this node (for a border
// router: an address every area's gateway answers on).
func (s *Stack) AddAnycast(a netip.Addr) {
	s.mu.Lock()
	s.anycast = append(s.anycast, a)
	s.mu.Unlock()
}

// isLocal reports whether a is one of this node's unicast addresses or a
// multicast group it has joined.
func (s *Stack) isLocal(a netip.Addr) bool {
	if a == s.ll || (s.global.IsValid() && a == s.global) || a == AllNodes || a == AllRPLNodes {
		return true
	}
	for _, x := range s.anycast {
		if x == a {
			return true
		}
	}
	return false
}

func (s *Stack) countBad(layer string, err error) {
	reason := layer + ": " + err.Error()
	type reasoner interface{ Reason() string }
	var r reasoner
	if errors.As(err, &r) {
		reason = layer + ": " + r.Reason()
	}
	s.bad[reason]++
	s.log.Debug("stack: dropped input", "node", s.lladdr.String(), "reason", reason)
}

// host adapts Stack to dodag.Host; its methods run with s.mu held.
type host Stack

func (h *host) SendRPL(dst netip.Addr, m rplmsg.Message) {
	s := (*Stack)(h)
	src, ok := s.sourceFor(dst)
	if !ok {
		s.cnt.Drops["no source address"]++
		return
	}
	msg, err := rplmsg.AppendICMP(make([]byte, 0, m.Len()), src, dst, m)
	if err != nil {
		s.countBad("rpl out", err)
		return
	}
	s.cnt.RPLTx++
	s.sendICMPMsg(src, dst, msg)
}

func (h *host) Joined(prefix netip.Prefix, root netip.Addr) {
	s := (*Stack)(h)
	s.ctx[0] = prefix
	s.global = lowpan.AddrFromPrefix(prefix, s.lladdr)
	s.log.Debug("stack: joined DODAG", "node", s.lladdr.String(), "root", root, "addr", s.global)
	if s.duty != nil {
		s.duty.release(forcedUnjoined, s.clk.Now())
	}
	if s.cfg.OnJoin != nil {
		s.cfg.OnJoin(root, s.global)
	}
}

func (h *host) Left() {
	// The address goes; context 0 stays until another DODAG replaces it,
	// so frames still in flight from the old one decompress.
	s := (*Stack)(h)
	if !s.cfg.RPL.Root {
		s.global = netip.Addr{}
		if s.duty != nil {
			s.duty.force(forcedUnjoined, s.clk.Now())
		}
	}
	if s.cfg.OnLeave != nil {
		s.cfg.OnLeave()
	}
}
