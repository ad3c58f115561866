package mote

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// protector seals payloads for one Protection mode.
type protector interface {
	seal(ctx context.Context, dst []byte, topic string, pt []byte) ([]byte, error)
	close()
}

// plain publishes the payload as it is.
type plain struct{}

func (plain) seal(_ context.Context, dst []byte, _ string, pt []byte) ([]byte, error) {
	return append(dst, pt...), nil
}
func (plain) close() {}

// static seals under a key derived from the pre-shared secret.
type static struct{ s *envelope.Sealer }

func (p static) seal(_ context.Context, dst []byte, topic string, pt []byte) ([]byte, error) {
	return p.s.Seal(dst, topic, pt)
}
func (p static) close() { p.s.Key().Wipe() }

// tsSession seals under keys from the Trusted System: the node's payload
// session (tsclient.Session), replaced by renew when the node starts a new
// session at a gateway.
type tsSession struct {
	cfg tsclient.SessionConfig

	// mu: seal holds it shared for the length of a seal, so renew (which
	// swaps s under it exclusively) never wipes a key in use.
	mu sync.RWMutex
	s  *tsclient.Session
}

func newTSSession(cfg tsclient.SessionConfig) (*tsSession, error) {
	s, err := tsclient.NewSession(cfg)
	if err != nil {
		return nil, err
	}
	return &tsSession{cfg: cfg, s: s}, nil
}

func (p *tsSession) seal(ctx context.Context, dst []byte, topic string, pt []byte) ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.s.Seal(ctx, dst, topic, pt)
}

func (p *tsSession) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.s.Close()
}

func (p *tsSession) current() *tsclient.Session {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.s
}

// renew starts a new payload session: a fresh key from the TS (TS-KEYREQ
// through the gateway, the same request the first seal makes), then the old
// session's key is wiped. A node without session handover does this on every
// full connect (a new session is a new key, docs/security.md); on error the
// old session stays.
func (p *tsSession) renew(ctx context.Context) error {
	s, err := tsclient.NewSession(p.cfg)
	if err != nil {
		return err
	}
	if _, err := s.Sealer(ctx); err != nil {
		s.Close()
		return err
	}
	p.mu.Lock()
	old := p.s
	p.s = s
	p.mu.Unlock()
	old.Close()
	return nil
}

// staticKeySalt separates static test keys from every other use of a PSS.
const staticKeySalt = "lsmqtt static payload key v1"

// StaticKeyLifetime is how long a static key is valid.
const StaticKeyLifetime = 100 * 365 * 24 * time.Hour

// StaticKey derives the test payload key of ProtectStatic (`--open` with a
// credential file): HKDF-SHA256 (RFC 5869) of the credentials' PSS with salt
// "lsmqtt static payload key v1" and info keyID (4 octets, big-endian) ||
// group, as long as the suite's key. A mote picks a fresh keyID per run (its
// start time in seconds), so sequence numbers never repeat under one key; a
// reader holding the same credential file derives the key from the key id
// in the envelope header. It is a test arrangement for gateways without a
// Trusted System: anyone with the file can read and forge.
func StaticKey(creds *tsclient.Credentials, suite *aead.Suite, keyID uint32) (*envelope.Key, error) {
	if creds == nil || len(creds.PSS) == 0 || creds.Sender == 0 || keyID == 0 {
		return nil, errors.New("mote: a static key needs a PSS, a sender number and a non-zero key id")
	}
	info := binary.BigEndian.AppendUint32(nil, keyID)
	info = append(info, creds.Group...)
	material, err := hkdf.Key(sha256.New, creds.PSS, []byte(staticKeySalt), string(info), suite.KeySize())
	if err != nil {
		return nil, err
	}
	defer clear(material)
	return envelope.NewKey(keyID, suite, material, creds.Sender, creds.Group, time.Unix(0, 0).Add(StaticKeyLifetime))
}

// gatewayExchanger carries TS-KEYREQ through the mote's gateway, which
// relays it to the Trusted System (tsclient.KeyExchanger).
type gatewayExchanger struct {
	m     *Mote
	count atomic.Uint64
}

func (x *gatewayExchanger) ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (bool, error)) error {
	c := x.m.client()
	if c == nil {
		return fmt.Errorf("%w: not connected", tsclient.ErrTimeout)
	}
	x.count.Add(1)
	mt := x.m.meter
	// Building the request: derive the request MAC key, HMAC-SHA256 over
	// the request (two compressions' worth of hashing: inner and outer).
	_, _ = mt.Crypto(energy.NoSuite, energy.KDF, 0, 0)
	_, _ = mt.Crypto(energy.NoSuite, energy.Hash, 64+req.Len(), 0)
	_, _ = mt.Crypto(energy.NoSuite, energy.Hash, 64+32, 0)
	var aerr error
	_, err := c.Request(ctx, req, func(m mqttsn.Message) bool {
		r, ok := m.(*mqttsn.TSKeyResponse)
		if !ok || !bytes.Equal(r.ReqNonce, req.Nonce) {
			return false
		}
		// Checking the answer: derive the wrap key, open the wrapped key
		// (Ascon-AEAD128 with the response fields as associated data).
		_, _ = mt.Crypto(energy.NoSuite, energy.KDF, 0, 0)
		_, _ = mt.Crypto(energy.Ascon128, energy.Open, len(r.Sealed), r.Len()-len(r.Sealed))
		done, err := accept(r)
		if done {
			aerr = err
		}
		return done
	})
	if errors.Is(err, client.ErrTimeout) {
		return fmt.Errorf("%w: %w", tsclient.ErrTimeout, err)
	}
	if err != nil {
		return err
	}
	return aerr
}
