package tsclient

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// ReaderConfig configures a caregiver's Reader.
type ReaderConfig struct {
	// Creds are the caregiver's credentials. Required; the Reader copies the PSS.
	Creds *Credentials
	// Exchanger reaches the TS (normally a Client). Required.
	Exchanger KeyExchanger
	// Grace accepts envelopes this long after their key's expiry. Default 1 minute.
	Grace time.Duration
	// NegativeTTL: a key the TS would not give is not asked for again for
	// this long (so forged key ids cannot make the reader flood the TS).
	// Default 1 minute.
	NegativeTTL time.Duration
	// AllowInsecure lets paper-xor envelopes through.
	AllowInsecure bool
	Clock         clock.Clock
	Logger        *slog.Logger
}

// Reader opens envelopes for a caregiver, fetching from the TS the keys of
// the groups the caregiver may read when it first meets them. It is safe
// for concurrent use.
type Reader struct {
	cfg   ReaderConfig
	creds Credentials
	ring  *envelope.MemKeyring
	recv  *envelope.Receiver

	mu      sync.Mutex
	refused map[uint32]time.Time
	opened  int
	fetch   sync.Mutex // one fetch at a time
}

// NewReader returns a Reader.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if cfg.Creds == nil || cfg.Exchanger == nil {
		return nil, errors.New("tsclient: ReaderConfig needs Creds and Exchanger")
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Minute
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	r := &Reader{cfg: cfg, creds: *cfg.Creds, ring: envelope.NewMemKeyring(), refused: make(map[uint32]time.Time)}
	r.creds.PSS = append([]byte(nil), cfg.Creds.PSS...)
	r.recv = envelope.NewReceiver(envelope.ReceiverConfig{Keys: r.ring, Grace: cfg.Grace, Clock: cfg.Clock,
		Logger: cfg.Logger, AllowInsecure: cfg.AllowInsecure})
	return r, nil
}

// Open opens envelope env received on topic, which carries data of patient
// group. It appends the plaintext to dst. An unknown key is fetched from the
// TS once (the caregiver must be granted group); every other rejection is
// envelope's typed error.
func (r *Reader) Open(ctx context.Context, group, topic string, dst, env []byte) ([]byte, envelope.Header, error) {
	out, h, err := r.recv.Open(dst, topic, env)
	if !errors.Is(err, envelope.ErrUnknownKey) {
		r.housekeeping()
		return out, h, err
	}
	if ferr := r.fetchKey(ctx, group, h.KeyID); ferr != nil {
		return dst, h, errors.Join(err, ferr)
	}
	return r.recv.Open(dst, topic, env)
}

func (r *Reader) fetchKey(ctx context.Context, group string, id uint32) error {
	r.fetch.Lock()
	defer r.fetch.Unlock()
	if r.ring.Key(id) != nil {
		return nil // fetched meanwhile
	}
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	until, refused := r.refused[id]
	r.mu.Unlock()
	if refused && now.Before(until) {
		return errors.New("tsclient: key recently refused by the TS")
	}
	k, err := FetchKey(ctx, r.cfg.Exchanger, r.cfg.Clock, &r.creds, group, id)
	if err != nil {
		r.mu.Lock()
		r.refused[id] = now.Add(r.cfg.NegativeTTL)
		r.mu.Unlock()
		return err
	}
	r.ring.Add(k)
	return nil
}

// housekeeping drops keys long past expiry and old refusals, every 256 opens.
func (r *Reader) housekeeping() {
	r.mu.Lock()
	r.opened++
	due := r.opened%256 == 0
	if due {
		now := r.cfg.Clock.Now()
		for id, until := range r.refused {
			if now.After(until) {
				delete(r.refused, id)
			}
		}
	}
	r.mu.Unlock()
	if due {
		for _, id := range r.ring.PruneExpired(r.cfg.Clock.Now(), r.cfg.Grace+time.Hour) {
			r.recv.Forget(id)
		}
	}
}

// Stats returns the envelope counters.
func (r *Reader) Stats() envelope.Stats { return r.recv.Stats() }

// Keys returns how many keys the reader holds.
func (r *Reader) Keys() int { return r.ring.Len() }

// Close wipes every key and the reader's copy of the PSS.
func (r *Reader) Close() {
	r.ring.WipeAll()
	r.creds.Wipe()
}
