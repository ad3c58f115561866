package tsclient

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// SessionConfig configures a node's Session.
type SessionConfig struct {
	// Creds are the node's credentials. Required; the Session copies the PSS.
	Creds *Credentials
	// Exchanger carries key requests to the TS. Required.
	Exchanger KeyExchanger
	// Suite is the payload suite. Default ascon128.
	Suite *aead.Suite
	// AllowInsecure must be set to use paper-xor.
	AllowInsecure bool
	// RefreshBefore: a new key is fetched when the current one has less than
	// this left. Default 5 minutes.
	RefreshBefore time.Duration
	// Clock. Default clock.Real.
	Clock clock.Clock
}

// Session holds a node's payload key for one session: it fetches a fresh key
// on first use, rotates it before it expires (a new key, a new key id, the
// sequence starting again at 1), and wipes every key on Close. It is safe
// for concurrent use.
type Session struct {
	cfg   SessionConfig
	creds Credentials

	mu     sync.Mutex
	sealer *envelope.Sealer
	closed bool
}

// ErrClosed is returned by a closed Session.
var ErrClosed = errors.New("tsclient: session closed")

// NewSession returns a Session; no key is fetched until the first Seal.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.Creds == nil || cfg.Exchanger == nil {
		return nil, errors.New("tsclient: SessionConfig needs Creds and Exchanger")
	}
	if cfg.Suite == nil {
		cfg.Suite, _ = aead.Lookup(aead.Default, aead.Options{})
	}
	if cfg.Suite.Insecure() && !cfg.AllowInsecure {
		return nil, aead.ErrInsecureSuite
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	s := &Session{cfg: cfg, creds: *cfg.Creds}
	s.creds.PSS = append([]byte(nil), cfg.Creds.PSS...)
	return s, nil
}

// Sealer returns the sealer of a key valid for at least RefreshBefore,
// fetching a new key when needed (and wiping the one it replaces).
func (s *Session) Sealer(ctx context.Context) (*envelope.Sealer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.sealer != nil && s.cfg.Clock.Now().Add(s.cfg.RefreshBefore).Before(s.sealer.Key().NotAfter) {
		return s.sealer, nil
	}
	return s.rotateLocked(ctx)
}

func (s *Session) rotateLocked(ctx context.Context) (*envelope.Sealer, error) {
	k, err := RequestKey(ctx, s.cfg.Exchanger, s.cfg.Clock, &s.creds, s.cfg.Suite, aead.Options{AllowInsecure: s.cfg.AllowInsecure})
	if err != nil {
		return nil, err
	}
	if s.sealer != nil {
		s.sealer.Key().Wipe()
	}
	s.sealer = envelope.NewSealer(k, s.cfg.Clock)
	return s.sealer, nil
}

// Seal seals plaintext for topic under the current key, rotating first when
// the key is near its end, and once more if the key ran out meanwhile.
func (s *Session) Seal(ctx context.Context, dst []byte, topic string, plaintext []byte) ([]byte, error) {
	se, err := s.Sealer(ctx)
	if err != nil {
		return dst, err
	}
	out, err := se.Seal(dst, topic, plaintext)
	if errors.Is(err, envelope.ErrExpiredKey) || errors.Is(err, envelope.ErrSeqExhausted) || errors.Is(err, envelope.ErrWipedKey) {
		s.mu.Lock()
		if s.sealer == se && !s.closed {
			_, err = s.rotateLocked(ctx)
		}
		s.mu.Unlock()
		if err != nil {
			return dst, err
		}
		return s.Seal(ctx, dst, topic, plaintext)
	}
	return out, err
}

// Key returns the current key, or nil.
func (s *Session) Key() *envelope.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealer == nil {
		return nil
	}
	return s.sealer.Key()
}

// Close ends the session: the key and the session's copy of the PSS are wiped.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.sealer != nil {
		s.sealer.Key().Wipe()
		s.sealer = nil
	}
	s.creds.Wipe()
}
