package envelope

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

// ReceiverConfig configures a Receiver. Zero fields take their defaults.
type ReceiverConfig struct {
	// Keys finds the key an envelope names. Required.
	Keys Keyring
	// Grace accepts envelopes under a key for this long after its NotAfter,
	// for messages sealed just before expiry and delivered late. Default 0.
	Grace time.Duration
	// Clock tells the time for expiry checks. Default clock.Real.
	Clock clock.Clock
	// Logger gets one debug line per rejection (header fields and reason,
	// never key material or payload). Default: discard.
	Logger *slog.Logger
	// AllowInsecure lets envelopes of insecure suites (paper-xor) through;
	// without it they are rejected as ErrWrongSuite.
	AllowInsecure bool
}

// Receiver opens envelopes: it checks format, key, expiry, sender, replay
// and authenticity, in that order, and delivers only what passes all of
// them. It is safe for concurrent use.
type Receiver struct {
	cfg ReceiverConfig

	mu      sync.Mutex
	windows map[windowID]*Window
	created int

	counts [numReasons]atomic.Uint64
}

type windowID struct {
	key    uint32
	sender uint16
}

// Reasons counted by a Receiver, in Stats order.
const (
	reasonDelivered = iota
	reasonMalformed
	reasonUnknownKey
	reasonExpiredKey
	reasonWrongSender
	reasonWrongSuite
	reasonReplay
	reasonTampered
	reasonWipedKey
	numReasons
)

var reasonNames = [numReasons]string{"delivered", "malformed", "unknown_key", "expired_key",
	"wrong_sender", "wrong_suite", "replay", "tampered", "wiped_key"}

// NewReceiver returns a Receiver.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Receiver{cfg: cfg, windows: make(map[windowID]*Window)}
}

// Open checks envelope env, received on topic, and appends its plaintext to
// dst. On any failure dst is returned unchanged with an error that
// errors.Is one of ErrMalformed, ErrUnknownKey, ErrExpiredKey,
// ErrWrongSender, ErrWrongSuite, ErrReplay, ErrTampered or ErrWipedKey (all
// but ErrMalformed wrapped in a *RejectError); the header is returned when
// it could be parsed.
func (r *Receiver) Open(dst []byte, topic string, env []byte) ([]byte, Header, error) {
	h, sealed, err := Parse(env, 0)
	if err != nil {
		return dst, h, r.reject(reasonMalformed, h, err)
	}
	k := r.cfg.Keys.Key(h.KeyID)
	if k == nil {
		return dst, h, r.reject(reasonUnknownKey, h, ErrUnknownKey)
	}
	if uint8(k.Suite.ID()) != h.Suite || (k.Suite.Insecure() && !r.cfg.AllowInsecure) {
		return dst, h, r.reject(reasonWrongSuite, h, ErrWrongSuite)
	}
	if len(sealed) < k.Suite.TagSize() {
		return dst, h, r.reject(reasonMalformed, h, &ParseError{"Tag", "truncated"})
	}
	if k.Sender != h.Sender {
		return dst, h, r.reject(reasonWrongSender, h, ErrWrongSender)
	}
	if r.cfg.Clock.Now().After(k.NotAfter.Add(r.cfg.Grace)) {
		return dst, h, r.reject(reasonExpiredKey, h, ErrExpiredKey)
	}
	wid := windowID{h.KeyID, h.Sender}
	r.mu.Lock()
	w := r.windows[wid]
	fresh := w == nil || w.Check(h.Seq)
	r.mu.Unlock()
	if !fresh {
		return dst, h, r.reject(reasonReplay, h, ErrReplay)
	}

	sc := scratchPool.Get().(*scratch)
	defer putScratch(sc)
	n := sc.nonce[:k.Suite.NonceSize()]
	nonce(n, h)
	ad := sc.aad(env[:HeaderLen], topic)
	k.mu.RLock()
	if k.aead == nil {
		k.mu.RUnlock()
		return dst, h, r.reject(reasonWipedKey, h, ErrWipedKey)
	}
	out, err := k.aead.Open(dst, n, sealed, ad)
	k.mu.RUnlock()
	if err != nil {
		return dst, h, r.reject(reasonTampered, h, ErrTampered)
	}

	// Record the sequence number only now that it is authentic, and check
	// again: a concurrent copy of the same envelope may have got here first.
	r.mu.Lock()
	w = r.windows[wid]
	if w == nil {
		w = new(Window)
		r.windows[wid] = w
		r.created++
		if r.created%1024 == 0 {
			r.pruneLocked()
		}
	}
	ok := w.Check(h.Seq)
	if ok {
		w.Accept(h.Seq)
	}
	r.mu.Unlock()
	if !ok {
		clear(out[len(dst):])
		return dst, h, r.reject(reasonReplay, h, ErrReplay)
	}
	r.counts[reasonDelivered].Add(1)
	return out, h, nil
}

func (r *Receiver) reject(reason int, h Header, err error) error {
	r.counts[reason].Add(1)
	if reason != reasonMalformed {
		err = &RejectError{KeyID: h.KeyID, Sender: h.Sender, Seq: h.Seq, Err: err}
	}
	if r.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		r.cfg.Logger.Debug("envelope rejected", "reason", reasonNames[reason],
			"key", h.KeyID, "sender", h.Sender, "seq", h.Seq, "err", err)
	}
	return err
}

// pruneLocked drops the windows of keys that are gone or past expiry and
// grace: envelopes under them are rejected before the window is consulted.
func (r *Receiver) pruneLocked() {
	now := r.cfg.Clock.Now()
	for id := range r.windows {
		k := r.cfg.Keys.Key(id.key)
		if k == nil || now.After(k.NotAfter.Add(r.cfg.Grace)) {
			delete(r.windows, id)
		}
	}
}

// Forget drops the replay windows of a key. Call it only once the key has
// left the keyring for good, or replays under it become possible.
func (r *Receiver) Forget(keyID uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.windows {
		if id.key == keyID {
			delete(r.windows, id)
		}
	}
}

// Stats is a snapshot of a Receiver's counters.
type Stats struct {
	Delivered, Malformed, UnknownKey, ExpiredKey, WrongSender, WrongSuite, Replay, Tampered, WipedKey uint64
}

// Rejected is the sum of every rejection reason.
func (s Stats) Rejected() uint64 {
	return s.Malformed + s.UnknownKey + s.ExpiredKey + s.WrongSender + s.WrongSuite + s.Replay + s.Tampered + s.WipedKey
}

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	c := func(i int) uint64 { return r.counts[i].Load() }
	return Stats{c(reasonDelivered), c(reasonMalformed), c(reasonUnknownKey), c(reasonExpiredKey),
		c(reasonWrongSender), c(reasonWrongSuite), c(reasonReplay), c(reasonTampered), c(reasonWipedKey)}
}

// Overhead returns the octets an envelope adds to a payload under suite s.
func Overhead(s *aead.Suite) int { return HeaderLen + s.TagSize() }
