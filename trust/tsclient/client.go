package tsclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// ClientConfig configures a Client. Zero fields take their defaults.
type ClientConfig struct {
	// TS is the Trusted System's address. Required.
	TS net.Addr
	// Conn is the socket to use. Default: a new UDP socket on an ephemeral
	// port of the TS address's family, closed by Close.
	Conn net.PacketConn
	// RetryInterval is the wait for an answer before a request is sent
	// again. Default 1 s.
	RetryInterval time.Duration
	// MaxRetries is how many times a request is sent again before giving up
	// with ErrTimeout. Default 4.
	MaxRetries int
	// ForwardTTL is how long answers to a forwarded (relayed) request are
	// passed on. Default 2 minutes.
	ForwardTTL time.Duration
	// Clock drives retransmission. Default clock.Real.
	Clock clock.Clock
	// Logger gets debug lines for dropped datagrams. Default: discard.
	Logger *slog.Logger
}

// ErrTimeout is returned when the TS gave no acceptable answer.
var ErrTimeout = errors.New("tsclient: no acceptable answer from the Trusted System")

// TimeoutError is ErrTimeout with the last answer that was ignored (an
// unauthenticated refusal, say), as a hint for the operator.
type TimeoutError struct{ LastIgnored error }

func (e *TimeoutError) Error() string {
	if e.LastIgnored == nil {
		return ErrTimeout.Error()
	}
	return ErrTimeout.Error() + " (last answer ignored: " + e.LastIgnored.Error() + ")"
}

// Unwrap returns ErrTimeout and the last ignored answer's error.
func (e *TimeoutError) Unwrap() []error { return []error{ErrTimeout, e.LastIgnored} }

// Client talks to the TS over a packet connection. It is safe for
// concurrent use; answers are matched to requests by their nonce
// (TS-KEYRESP ReqNonce, TS-ADMITRESP Challenge).
type Client struct {
	cfg   ClientConfig
	conn  net.PacketConn
	owned bool

	mu      sync.Mutex
	waiters map[[mqttsn.TSNonceLen]byte]func(mqttsn.Message)
	closed  bool

	done    chan struct{}
	dropped atomic.Uint64
}

// NewClient returns a Client and starts its reader; Close stops it.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.TS == nil {
		return nil, errors.New("tsclient: ClientConfig.TS is required")
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 4
	}
	if cfg.ForwardTTL <= 0 {
		cfg.ForwardTTL = 2 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{cfg: cfg, conn: cfg.Conn, waiters: make(map[[mqttsn.TSNonceLen]byte]func(mqttsn.Message)),
		done: make(chan struct{})}
	if c.conn == nil {
		laddr := "0.0.0.0:0"
		if ua, ok := cfg.TS.(*net.UDPAddr); ok && ua.IP.To4() == nil {
			laddr = "[::]:0"
		}
		pc, err := net.ListenPacket("udp", laddr)
		if err != nil {
			return nil, err
		}
		c.conn, c.owned = pc, true
	}
	go c.read()
	return c, nil
}

// LocalAddr is the client's own address.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Dropped counts datagrams the client read and could not use.
func (c *Client) Dropped() uint64 { return c.dropped.Load() }

// Close stops the reader (and closes the socket if the client made it).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	var err error
	if c.owned {
		err = c.conn.Close()
	} else {
		c.conn.SetReadDeadline(time.Unix(1, 0))
	}
	<-c.done
	if !c.owned {
		c.conn.SetReadDeadline(time.Time{})
	}
	return err
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Client) read() {
	defer close(c.done)
	buf := make([]byte, 2048)
	for {
		n, addr, err := c.conn.ReadFrom(buf)
		if err != nil {
			if c.isClosed() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			c.cfg.Logger.Debug("tsclient: read", "err", err)
			return
		}
		if addr.String() != c.cfg.TS.String() {
			c.drop("not from the TS", addr)
			continue
		}
		// Decode from a private copy: the waiter owns what it gets.
		m, used, err := mqttsn.Decode(append([]byte(nil), buf[:n]...))
		if err != nil || used != n {
			c.drop("malformed", addr)
			continue
		}
		var id []byte
		switch m := m.(type) {
		case *mqttsn.TSKeyResponse:
			id = m.ReqNonce
		case *mqttsn.TSAdmitResponse:
			id = m.Challenge
		default:
			c.drop("not a TS answer", addr)
			continue
		}
		var key [mqttsn.TSNonceLen]byte
		copy(key[:], id)
		c.mu.Lock()
		w := c.waiters[key]
		c.mu.Unlock()
		if w == nil {
			c.drop("no request waiting (late or replayed)", addr)
			continue
		}
		w(m)
	}
}

func (c *Client) drop(reason string, from net.Addr) {
	c.dropped.Add(1)
	c.cfg.Logger.Debug("tsclient: dropped datagram", "reason", reason, "from", from)
}

func (c *Client) send(m mqttsn.Message) error {
	b, err := m.AppendBinary(nil)
	if err != nil {
		return err
	}
	_, err = c.conn.WriteTo(b, c.cfg.TS)
	return err
}

func (c *Client) register(id []byte, f func(mqttsn.Message)) (unregister func(), err error) {
	var key [mqttsn.TSNonceLen]byte
	copy(key[:], id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, net.ErrClosed
	}
	if c.waiters[key] != nil {
		return nil, errors.New("tsclient: a request with this nonce is already waiting")
	}
	c.waiters[key] = f
	return func() {
		c.mu.Lock()
		delete(c.waiters, key)
		c.mu.Unlock()
	}, nil
}

// RoundTrip sends req, whose nonce is id, and passes each answer carrying
// id to accept until accept reports done. It sends req again every
// RetryInterval, MaxRetries times, then fails with a *TimeoutError. accept
// runs on the caller's goroutine; its error is returned when done, and
// remembered as the hint of a timeout when not.
func (c *Client) RoundTrip(ctx context.Context, req mqttsn.Message, id []byte, accept func(mqttsn.Message) (done bool, err error)) error {
	answers := make(chan mqttsn.Message, 8)
	unregister, err := c.register(id, func(m mqttsn.Message) {
		select {
		case answers <- m:
		default: // a flood of answers: the extra ones are dropped
			c.dropped.Add(1)
		}
	})
	if err != nil {
		return err
	}
	defer unregister()
	var lastIgnored error
	for attempt := 0; attempt <= c.cfg.MaxRetries; attempt++ {
		if err := c.send(req); err != nil {
			return err
		}
		expired := make(chan struct{})
		t := c.cfg.Clock.AfterFunc(c.cfg.RetryInterval, func() { close(expired) })
	wait:
		for {
			select {
			case m := <-answers:
				done, err := accept(m)
				if done {
					t.Stop()
					return err
				}
				if err != nil {
					lastIgnored = err
				}
			case <-expired:
				break wait
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
	return &TimeoutError{LastIgnored: lastIgnored}
}

// Forward sends a key request on behalf of someone else (a gateway relaying
// a node's TS-KEYREQ) and calls deliver, on the client's reader goroutine,
// for every answer to it during ForwardTTL. deliver must not block. The
// requester retransmits; each retransmission is forwarded again.
func (c *Client) Forward(req *mqttsn.TSKeyRequest, deliver func(*mqttsn.TSKeyResponse)) error {
	var key [mqttsn.TSNonceLen]byte
	copy(key[:], req.Nonce)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	if c.waiters[key] == nil {
		name := string(req.Name)
		c.waiters[key] = func(m mqttsn.Message) {
			if r, ok := m.(*mqttsn.TSKeyResponse); ok && string(r.Name) == name {
				deliver(r)
			}
		}
		c.cfg.Clock.AfterFunc(c.cfg.ForwardTTL, func() {
			c.mu.Lock()
			delete(c.waiters, key)
			c.mu.Unlock()
		})
	}
	c.mu.Unlock()
	return c.send(req)
}
