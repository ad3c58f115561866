package ts

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/keywrap"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Config configures a Service. Zero fields take their defaults.
type Config struct {
	// Registry is the TS's durable state. Required.
	Registry *registry.Registry
	// KeyLifetime is how long a fresh key is valid (its epoch). Nodes fetch a
	// new one before it ends. Default 1 hour.
	KeyLifetime time.Duration
	// KeyRetention is how long after its expiry a key can still be fetched
	// by caregivers (to read late or stored messages) before it is purged.
	// Default 24 hours.
	KeyRetention time.Duration
	// PurgeInterval is how often expired keys are purged. Default 10 minutes.
	PurgeInterval time.Duration
	// AllowInsecure lets nodes obtain paper-xor keys (to reproduce the
	// paper). Default: refused with status "bad request".
	AllowInsecure bool
	// Clock tells the time and drives the purge timer. Default clock.Real.
	Clock clock.Clock
	// Logger gets one debug line per request (names and statuses, never
	// secrets). Default: discard.
	Logger *slog.Logger
}

// Service is the TS policy. It is safe for concurrent use.
type Service struct {
	cfg Config

	mu     sync.Mutex
	recent map[recentKey]*recentAnswer // retransmitted requests get the same answer
	order  []recentKey
	purge  clock.Timer
	closed bool

	counts sync.Map // string → *atomic.Uint64
}

type recentKey struct {
	name  string
	nonce [mqttsn.TSNonceLen]byte
}

type recentAnswer struct {
	resp *mqttsn.TSKeyResponse
	at   time.Time
}

const (
	recentMax = 4096
	recentTTL = 2 * time.Minute
)

// NewService returns a Service and starts its purge timer (stopped by Close).
func NewService(cfg Config) (*Service, error) {
	if cfg.Registry == nil {
		return nil, errors.New("ts: Config.Registry is required")
	}
	if cfg.KeyLifetime <= 0 {
		cfg.KeyLifetime = time.Hour
	}
	if cfg.KeyRetention <= 0 {
		cfg.KeyRetention = 24 * time.Hour
	}
	if cfg.PurgeInterval <= 0 {
		cfg.PurgeInterval = 10 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Service{cfg: cfg, recent: make(map[recentKey]*recentAnswer)}
	s.mu.Lock()
	s.purge = cfg.Clock.AfterFunc(cfg.PurgeInterval, s.purgeKeys)
	s.mu.Unlock()
	return s, nil
}

// Close stops the purge timer.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.purge.Stop()
}

func (s *Service) purgeKeys() {
	n, err := s.cfg.Registry.PurgeKeys(s.cfg.Clock.Now().Add(-s.cfg.KeyRetention))
	if err != nil {
		s.cfg.Logger.Warn("ts: purging expired keys", "err", err)
	} else if n > 0 {
		s.cfg.Logger.Debug("ts: purged expired keys", "count", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.purge = s.cfg.Clock.AfterFunc(s.cfg.PurgeInterval, s.purgeKeys)
	}
}

func (s *Service) count(what string) {
	v, ok := s.counts.Load(what)
	if !ok {
		v, _ = s.counts.LoadOrStore(what, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// Stats returns the counters: requests and answers by kind and status, and
// drops by reason.
func (s *Service) Stats() map[string]uint64 {
	out := make(map[string]uint64)
	s.counts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

// Handle answers one TS message; ok is false for a message the TS does not
// answer (not a request).
func (s *Service) Handle(m mqttsn.Message) (resp mqttsn.Message, ok bool) {
	switch m := m.(type) {
	case *mqttsn.TSKeyRequest:
		return s.HandleKeyRequest(m), true
	case *mqttsn.TSAdmitRequest:
		return s.HandleAdmitRequest(m), true
	}
	s.count("drop:not_a_request")
	return nil, false
}

// HandleKeyRequest answers a TS-KEYREQ. The answer is authenticated
// (sealed under the requester's K_wrap) whenever the request's MAC
// verified; otherwise it is a bare, unauthenticated refusal that the real
// requester ignores, so a forged request cannot make the TS sign a refusal
// for someone else's nonce.
func (s *Service) HandleKeyRequest(m *mqttsn.TSKeyRequest) *mqttsn.TSKeyResponse {
	name := string(m.Name)
	rk := recentKey{name: name}
	copy(rk.nonce[:], m.Nonce)
	now := s.cfg.Clock.Now()

	resp := &mqttsn.TSKeyResponse{Fetch: m.Fetch, Suite: m.Suite, KeyID: m.KeyID,
		ReqNonce: bytes.Clone(m.Nonce), TSNonce: make([]byte, mqttsn.TSNonceLen),
		Name: bytes.Clone(m.Name), Group: bytes.Clone(m.Group)}
	p, err := s.cfg.Registry.Get(name)
	if err != nil {
		return s.refuse(resp, nil, statusOf(err), "keyreq")
	}
	defer p.Wipe()
	if !keywrap.VerifyKeyRequest(p.PSS, m) {
		return s.refuse(resp, nil, mqttsn.TSBadAuth, "keyreq")
	}
	// A retransmission of a request already answered gets the same answer
	// (and does not burn another key id).
	s.mu.Lock()
	if a := s.recent[rk]; a != nil && now.Sub(a.at) < recentTTL {
		s.mu.Unlock()
		s.count("keyreq:retransmission")
		return a.resp
	}
	s.mu.Unlock()

	var material []byte
	status := mqttsn.TSOK
	switch {
	case !p.Active():
		status = mqttsn.TSRevoked
	case !m.Fetch:
		status, material = s.issue(p, m, resp)
	default:
		status, material = s.fetch(p, m, resp, now)
	}
	defer keywrap.Wipe(material)
	if status != mqttsn.TSOK {
		return s.refuse(resp, p.PSS, status, "keyreq")
	}
	if err := keywrap.SealKeyResponse(p.PSS, resp, material); err != nil {
		return s.refuse(resp, nil, mqttsn.TSUnavailable, "keyreq")
	}
	s.remember(rk, resp, now)
	s.count("keyreq:ok")
	s.cfg.Logger.Debug("ts: key issued", "name", name, "fetch", m.Fetch, "key", resp.KeyID, "group", string(m.Group))
	return resp
}

// issue makes a fresh key for a node's own group.
func (s *Service) issue(p *registry.Principal, m *mqttsn.TSKeyRequest, resp *mqttsn.TSKeyResponse) (mqttsn.TSStatus, []byte) {
	if p.Kind != registry.KindNode || string(m.Group) != p.Group {
		return mqttsn.TSDenied, nil
	}
	suite, err := aead.ByID(aead.ID(m.Suite), aead.Options{AllowInsecure: s.cfg.AllowInsecure})
	if err != nil || m.KeyID != 0 {
		return mqttsn.TSBadRequest, nil
	}
	rec, err := s.cfg.Registry.IssueKey(p.Name, suite, s.cfg.KeyLifetime)
	if err != nil {
		return statusOf(err), nil
	}
	resp.KeyID, resp.Sender, resp.NotAfter = rec.ID, rec.Sender, uint32(rec.NotAfter.Unix())
	return mqttsn.TSOK, rec.Material
}

// fetch hands an existing key of a group to a caregiver allowed to read it.
func (s *Service) fetch(p *registry.Principal, m *mqttsn.TSKeyRequest, resp *mqttsn.TSKeyResponse, now time.Time) (mqttsn.TSStatus, []byte) {
	if !p.MayRead(string(m.Group)) {
		return mqttsn.TSDenied, nil
	}
	rec, err := s.cfg.Registry.Key(m.KeyID)
	if err != nil || rec.Group != string(m.Group) || now.After(rec.NotAfter.Add(s.cfg.KeyRetention)) {
		// A key of another group is "unknown" too: its existence is not the
		// caregiver's business.
		if rec != nil {
			rec.Wipe()
		}
		return mqttsn.TSUnknownKey, nil
	}
	suite, err := aead.ByID(rec.Suite, aead.Options{AllowInsecure: true})
	if err != nil {
		rec.Wipe()
		return mqttsn.TSUnavailable, nil
	}
	resp.Suite, resp.Sender, resp.NotAfter = uint8(suite.ID()), rec.Sender, uint32(rec.NotAfter.Unix())
	return mqttsn.TSOK, rec.Material
}

func (s *Service) remember(k recentKey, resp *mqttsn.TSKeyResponse, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recent[k]; !ok {
		s.order = append(s.order, k)
	}
	s.recent[k] = &recentAnswer{resp: resp, at: now}
	for len(s.order) > recentMax || (len(s.order) > 0 && now.Sub(s.recent[s.order[0]].at) >= recentTTL) {
		delete(s.recent, s.order[0])
		s.order = s.order[1:]
	}
}

// refuse fills a refusal: sealed (tag only) under pss when it is known and
// the request authenticated, bare otherwise.
func (s *Service) refuse(resp *mqttsn.TSKeyResponse, pss []byte, st mqttsn.TSStatus, what string) *mqttsn.TSKeyResponse {
	resp.Status = st
	resp.Sender, resp.NotAfter = 0, 0
	if !resp.Fetch {
		resp.KeyID = 0
	}
	if pss != nil {
		if err := keywrap.SealKeyResponse(pss, resp, nil); err != nil {
			resp.Sealed = nil
		}
	}
	s.count(what + ":" + st.String())
	s.cfg.Logger.Debug("ts: refused", "request", what, "name", string(resp.Name), "status", st.String(),
		"authenticated", resp.Sealed != nil)
	return resp
}

func statusOf(err error) mqttsn.TSStatus {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return mqttsn.TSUnknown
	case errors.Is(err, registry.ErrRevoked):
		return mqttsn.TSRevoked
	case errors.Is(err, registry.ErrKind):
		return mqttsn.TSDenied
	default:
		return mqttsn.TSUnavailable
	}
}

// AdmitVerdict is the TS's decision on a node's admission proof.
type AdmitVerdict struct {
	Status mqttsn.TSStatus
	Sender uint16 // device number, when admitted
	Group  string // patient group, when admitted
}

// VerifyAdmission checks a node's proof for a gateway's challenge. It is
// what HandleAdmitRequest decides, for a TS running inside the gateway
// process (no gateway credential needed then).
func (s *Service) VerifyAdmission(gateway, clientID string, challenge, proof []byte) AdmitVerdict {
	p, err := s.cfg.Registry.Get(clientID)
	if err != nil {
		return AdmitVerdict{Status: statusOf(err)}
	}
	defer p.Wipe()
	switch {
	case p.Kind != registry.KindNode:
		return AdmitVerdict{Status: mqttsn.TSDenied}
	case !p.Active():
		return AdmitVerdict{Status: mqttsn.TSRevoked}
	case len(challenge) != mqttsn.TSNonceLen || !keywrap.CheckProof(p.PSS, challenge, gateway, clientID, proof):
		return AdmitVerdict{Status: mqttsn.TSBadAuth}
	}
	return AdmitVerdict{Status: mqttsn.TSOK, Sender: p.Sender, Group: p.Group}
}

// HandleAdmitRequest answers a gateway's TS-ADMITREQ. The verdict is MACed
// under the gateway's K_req; a request from an unknown gateway or with a
// bad MAC gets an all-zero MAC, which the gateway treats as a refusal.
func (s *Service) HandleAdmitRequest(m *mqttsn.TSAdmitRequest) *mqttsn.TSAdmitResponse {
	resp := &mqttsn.TSAdmitResponse{Challenge: bytes.Clone(m.Challenge), ClientID: bytes.Clone(m.ClientID),
		Group: []byte("-"), MAC: make([]byte, mqttsn.TSMACLen)}
	gw, err := s.cfg.Registry.Get(string(m.Gateway))
	if err != nil || gw.Kind != registry.KindGateway {
		resp.Status = mqttsn.TSUnknown
		if err == nil {
			gw.Wipe()
			resp.Status = mqttsn.TSDenied
		}
		s.count("admit:unknown_gateway")
		return resp
	}
	defer gw.Wipe()
	if !keywrap.VerifyAdmitRequest(gw.PSS, m) {
		resp.Status = mqttsn.TSBadAuth
		s.count("admit:bad_gateway_mac")
		return resp
	}
	v := AdmitVerdict{Status: mqttsn.TSRevoked}
	if gw.Active() {
		v = s.VerifyAdmission(gw.Name, string(m.ClientID), m.Challenge, m.Proof)
	}
	resp.Status, resp.Sender = v.Status, v.Sender
	if v.Status == mqttsn.TSOK {
		resp.Group = []byte(v.Group)
	}
	if err := keywrap.SignAdmitResponse(gw.PSS, gw.Name, resp); err != nil {
		resp.Status, resp.MAC = mqttsn.TSUnavailable, make([]byte, mqttsn.TSMACLen)
	}
	s.count("admit:" + resp.Status.String())
	s.cfg.Logger.Debug("ts: admission", "gateway", gw.Name, "client", string(m.ClientID), "status", resp.Status.String())
	return resp
}

// Verifier returns the Service as an admission verifier for a gateway that
// runs the TS in its own process (tsclient.Verifier).
func (s *Service) Verifier() LocalVerifier { return LocalVerifier{s} }

// LocalVerifier is an in-process tsclient.Verifier.
type LocalVerifier struct{ s *Service }

// VerifyAdmission implements tsclient.Verifier.
func (v LocalVerifier) VerifyAdmission(_ context.Context, gateway, clientID string, challenge, proof []byte) (tsclient.Verdict, error) {
	a := v.s.VerifyAdmission(gateway, clientID, challenge, proof)
	v.s.count("admit_local:" + a.Status.String())
	return tsclient.Verdict{Status: a.Status, Sender: a.Sender, Group: a.Group}, nil
}
