package ts

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/keywrap"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const topic = "ward/3/patient/17/hr"

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

type env struct {
	t    *testing.T
	clk  *clock.Virtual
	reg  *registry.Registry
	svc  *Service
	addr net.Addr
}

// start runs a TS on 127.0.0.1:0 with a virtual clock.
func start(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewVirtual(t0)}
	var err error
	e.reg, err = registry.Open(filepath.Join(t.TempDir(), "ts.db"), registry.Options{Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = NewService(Config{Registry: e.reg, Clock: e.clk, KeyLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = pc.LocalAddr()
	srv := NewServer(e.svc)
	started := make(chan struct{})
	srv.NotifyStarted = func(net.Addr) { close(started) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc) }()
	<-started
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		pc.Close()
		e.svc.Close()
		e.reg.Close()
	})
	return e
}

// client returns a TS client on the virtual clock: unless the test moves
// that clock it never resends nor gives up, however slow the host. With
// timeout it runs on the real clock instead, for the failure paths that
// end in a timeout: they wait for one, they never measure one. Four
// attempts 300 ms apart give the answers they must see (and reject) time
// to arrive on a loaded host (20 ms once timed out a key being issued).
func (e *env) client(timeout bool) *tsclient.Client {
	cfg := tsclient.ClientConfig{TS: e.addr, Clock: e.clk}
	if timeout {
		cfg.Clock, cfg.RetryInterval, cfg.MaxRetries = clock.Real{}, timeoutRetry, 3
	}
	c, err := tsclient.NewClient(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) creds(p *registry.Principal) *tsclient.Credentials {
	return &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: bytes.Clone(p.PSS), Sender: p.Sender, Group: p.Group}
}

func (e *env) node(name, group string) *tsclient.Credentials {
	p, err := e.reg.RegisterNode(name, group)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.creds(p)
}

func (e *env) caregiver(name string, groups ...string) *tsclient.Credentials {
	p, err := e.reg.RegisterCaregiver(name)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range groups {
		if err := e.reg.Grant(name, g); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.creds(p)
}

// timeoutRetry is the real-clock retransmission interval of the clients
// whose requests must end in a timeout.
const timeoutRetry = 300 * time.Millisecond

var ascon, _ = aead.Lookup(aead.NameAscon128, aead.Options{})

// TestNodeToCaregiver: a node gets a key, seals; a granted caregiver fetches
// the key on demand and reads; replays and other patients' topics fail.
func TestNodeToCaregiver(t *testing.T) {
	e := start(t)
	c := e.client(false)
	nodeCreds := e.node("z1-7", "patient-17")
	nurse := e.caregiver("nurse", "patient-17")

	s, err := tsclient.NewSession(tsclient.SessionConfig{Creds: nodeCreds, Exchanger: c, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env1, err := s.Seal(ctx, nil, topic, []byte("HR=72"))
	if err != nil {
		t.Fatal(err)
	}
	k := s.Key()
	if k.Sender != nodeCreds.Sender || k.Group != "patient-17" || !k.NotAfter.Equal(t0.Add(time.Hour)) {
		t.Fatalf("key %+v", k)
	}
	r, err := tsclient.NewReader(tsclient.ReaderConfig{Creds: nurse, Exchanger: c, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pt, h, err := r.Open(ctx, "patient-17", topic, nil, env1)
	if err != nil || string(pt) != "HR=72" || h.KeyID != k.ID {
		t.Fatalf("caregiver read %q %+v %v", pt, h, err)
	}
	if _, _, err := r.Open(ctx, "patient-17", topic, nil, env1); !errors.Is(err, envelope.ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	env2, _ := s.Seal(ctx, nil, topic, []byte("HR=73"))
	if _, _, err := r.Open(ctx, "patient-17", "ward/3/patient/18/hr", nil, env2); !errors.Is(err, envelope.ErrTampered) {
		t.Fatalf("wrong topic: %v", err)
	}
	if r.Keys() != 1 {
		t.Fatalf("reader holds %d keys", r.Keys())
	}

	// Epoch rotation: past RefreshBefore the node takes a new key; the old
	// key's envelopes stop being accepted once it expired (plus grace).
	old := k
	e.clk.Advance(56 * time.Minute)
	env3, err := s.Seal(ctx, nil, topic, []byte("HR=74"))
	if err != nil {
		t.Fatal(err)
	}
	if nk := s.Key(); nk.ID == old.ID || !old.Wiped() {
		t.Fatalf("no rotation: new %d old %d wiped %v", nk.ID, old.ID, old.Wiped())
	}
	if pt, _, err := r.Open(ctx, "patient-17", topic, nil, env3); err != nil || string(pt) != "HR=74" {
		t.Fatalf("after rotation: %q %v", pt, err)
	}
	e.clk.Advance(5 * time.Minute) // old key expired 1 min ago; grace is 1 min
	envLate := append([]byte(nil), env2...)
	e.clk.Advance(2 * time.Minute)
	if _, _, err := r.Open(ctx, "patient-17", topic, nil, envLate); !errors.Is(err, envelope.ErrExpiredKey) {
		t.Fatalf("expired epoch: %v", err)
	}

	s.Close()
	if k := s.Key(); k != nil {
		t.Fatal("key kept after Close")
	}
	if _, err := s.Seal(ctx, nil, topic, []byte("x")); !errors.Is(err, tsclient.ErrClosed) {
		t.Fatalf("seal after close: %v", err)
	}
}

func TestRetransmittedRequestSameKey(t *testing.T) {
	e := start(t)
	creds := e.node("z1-1", "p1")
	r, _ := keywrap.NewKeyRequest(creds.PSS, creds.Name, creds.Group, aead.IDAscon128)
	m, _ := r.Message()
	a := e.svc.HandleKeyRequest(m)
	b := e.svc.HandleKeyRequest(m)
	if a.Status != mqttsn.TSOK || a.KeyID != b.KeyID || !bytes.Equal(a.Sealed, b.Sealed) {
		t.Fatalf("retransmission got another answer: %d vs %d", a.KeyID, b.KeyID)
	}
	if keys, _ := e.reg.Keys(); len(keys) != 1 {
		t.Fatalf("%d keys issued", len(keys))
	}
}

func TestKeyRequestRefusals(t *testing.T) {
	e := start(t)
	c := e.client(false)
	ctx := context.Background()
	n := e.node("z1-1", "p1")
	other := e.node("z1-2", "p2")
	nurse := e.caregiver("nurse", "p1")

	// Caregiver not granted the group.
	k, err := tsclient.RequestKey(ctx, c, e.clk, n, ascon, aead.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var re *keywrap.RefusedError
	if _, err := tsclient.FetchKey(ctx, c, e.clk, nurse, "p2", k.ID); !errors.As(err, &re) || re.Status != mqttsn.TSDenied {
		t.Fatalf("ungranted group: %v", err)
	}
	// Granted group, but the key belongs to another group: unknown.
	if _, err := tsclient.FetchKey(ctx, c, e.clk, nurse, "p1", k.ID+100); !errors.As(err, &re) || re.Status != mqttsn.TSUnknownKey {
		t.Fatalf("unknown key: %v", err)
	}
	k2, _ := tsclient.RequestKey(ctx, c, e.clk, other, ascon, aead.Options{})
	if _, err := tsclient.FetchKey(ctx, c, e.clk, nurse, "p1", k2.ID); !errors.As(err, &re) || re.Status != mqttsn.TSUnknownKey {
		t.Fatalf("other group's key: %v", err)
	}
	// A node asking for a key of another group.
	wrong := *n
	wrong.Group = "p2"
	if _, err := tsclient.RequestKey(ctx, c, e.clk, &wrong, ascon, aead.Options{}); !errors.As(err, &re) || re.Status != mqttsn.TSDenied {
		t.Fatalf("node, other group: %v", err)
	}
	// paper-xor is refused by a TS not configured for it.
	px, _ := aead.Lookup(aead.NamePaperXOR, aead.Options{AllowInsecure: true})
	if _, err := tsclient.RequestKey(ctx, c, e.clk, n, px, aead.Options{AllowInsecure: true}); !errors.As(err, &re) || re.Status != mqttsn.TSBadRequest {
		t.Fatalf("paper-xor: %v", err)
	}
	// Revoked node.
	if err := e.reg.Revoke("z1-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tsclient.RequestKey(ctx, c, e.clk, n, ascon, aead.Options{}); !errors.As(err, &re) || re.Status != mqttsn.TSRevoked {
		t.Fatalf("revoked node: %v", err)
	}
	// Unregistered node: the TS cannot authenticate its refusal, so the
	// requester does not believe it and times out.
	ghost := &tsclient.Credentials{Name: "ghost", PSS: bytes.Repeat([]byte{1}, 16), Group: "p1"}
	c = e.client(true)
	if _, err := tsclient.RequestKey(ctx, c, e.clk, ghost, ascon, aead.Options{}); !errors.Is(err, tsclient.ErrTimeout) || !errors.Is(err, keywrap.ErrUnauthenticated) {
		t.Fatalf("unregistered node: %v", err)
	}
	// A registered name with the wrong PSS (a stolen name, not a stolen node).
	impostor := *other
	impostor.PSS = bytes.Repeat([]byte{2}, 16)
	if _, err := tsclient.RequestKey(ctx, c, e.clk, &impostor, ascon, aead.Options{}); !errors.Is(err, tsclient.ErrTimeout) {
		t.Fatalf("wrong PSS: %v", err)
	}
	st := e.svc.Stats()
	if st["keyreq:bad authentication"] == 0 || st["keyreq:unknown principal"] == 0 || st["keyreq:revoked"] == 0 {
		t.Fatalf("stats %v", st)
	}
}

// TestForgedTSAnswer: a fake TS answering every request with a forged key
// response; the node never accepts it.
func TestForgedTSAnswer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var req mqttsn.TSKeyRequest
			if _, err := req.Decode(buf[:n]); err != nil {
				continue
			}
			resp := &mqttsn.TSKeyResponse{Suite: req.Suite, KeyID: 1, Sender: 1, NotAfter: uint32(t0.Add(time.Hour).Unix()),
				ReqNonce: req.Nonce, Name: req.Name, Group: req.Group}
			// The attacker does not know the PSS: it wraps under a guess.
			keywrap.SealKeyResponse(bytes.Repeat([]byte{0xEE}, 16), resp, bytes.Repeat([]byte{0xAB}, 16))
			b, _ := resp.AppendBinary(nil)
			pc.WriteTo(b, addr)
		}
	}()
	c, err := tsclient.NewClient(tsclient.ClientConfig{TS: pc.LocalAddr(), RetryInterval: timeoutRetry, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := &tsclient.Credentials{Name: "z1-1", PSS: bytes.Repeat([]byte{0x11}, 16), Group: "p1"}
	_, err = tsclient.RequestKey(context.Background(), c, clock.NewVirtual(t0), n, ascon, aead.Options{})
	if !errors.Is(err, tsclient.ErrTimeout) || !errors.Is(err, keywrap.ErrForged) {
		t.Fatalf("forged answer: %v", err)
	}
}

func TestAdmission(t *testing.T) {
	e := start(t)
	c := e.client(false)
	ctx := context.Background()
	gwP, _ := e.reg.RegisterGateway("gw-ward3")
	gw := e.creds(gwP)
	n := e.node("z1-7", "patient-17")
	v := &tsclient.RemoteVerifier{Client: c, Creds: gw}

	admit := func(creds *tsclient.Credentials, gateway string) (tsclient.Verdict, error) {
		ch, _ := tsclient.NewChallenge(gateway)
		p, err := tsclient.Prove(creds, ch)
		if err != nil {
			t.Fatal(err)
		}
		return v.VerifyAdmission(ctx, gateway, creds.Name, ch.Challenge, p.Proof)
	}
	if vd, err := admit(n, "gw-ward3"); err != nil || !vd.Admitted() || vd.Sender != n.Sender || vd.Group != "patient-17" {
		t.Fatalf("registered node: %+v %v", vd, err)
	}
	// Local verifier (TS in the gateway process) agrees.
	ch, _ := tsclient.NewChallenge("gw-ward3")
	p, _ := tsclient.Prove(n, ch)
	if vd, _ := e.svc.Verifier().VerifyAdmission(ctx, "gw-ward3", n.Name, ch.Challenge, p.Proof); !vd.Admitted() {
		t.Fatalf("local verifier: %+v", vd)
	}
	// A proof made for another gateway does not transfer.
	ch, _ = tsclient.NewChallenge("gw-ward4")
	p, _ = tsclient.Prove(n, ch)
	if vd, _ := v.VerifyAdmission(ctx, "gw-ward3", n.Name, ch.Challenge, p.Proof); vd.Status != mqttsn.TSBadAuth {
		t.Fatalf("relayed proof: %+v", vd)
	}
	// Wrong PSS.
	bad := *n
	bad.PSS = bytes.Repeat([]byte{9}, 16)
	if vd, _ := admit(&bad, "gw-ward3"); vd.Status != mqttsn.TSBadAuth {
		t.Fatalf("wrong PSS: %+v", vd)
	}
	// Unregistered node.
	ghost := &tsclient.Credentials{Name: "ghost", PSS: bytes.Repeat([]byte{1}, 16)}
	if vd, _ := admit(ghost, "gw-ward3"); vd.Status != mqttsn.TSUnknown {
		t.Fatalf("unregistered: %+v", vd)
	}
	// A caregiver is not a node.
	nurse := e.caregiver("nurse")
	if vd, _ := admit(nurse, "gw-ward3"); vd.Status != mqttsn.TSDenied {
		t.Fatalf("caregiver as node: %+v", vd)
	}
	// Revoked node.
	e.reg.Revoke("z1-7")
	if vd, _ := admit(n, "gw-ward3"); vd.Status != mqttsn.TSRevoked {
		t.Fatalf("revoked: %+v", vd)
	}
	// An unregistered gateway gets no authenticated verdict.
	rogue := &tsclient.RemoteVerifier{Client: e.client(true), Creds: &tsclient.Credentials{Name: "rogue", PSS: bytes.Repeat([]byte{3}, 16)}}
	ch, _ = tsclient.NewChallenge("rogue")
	if _, err := rogue.VerifyAdmission(ctx, "rogue", "z1-7", ch.Challenge, make([]byte, 16)); !errors.Is(err, tsclient.ErrTimeout) || !errors.Is(err, tsclient.ErrVerdictForged) {
		t.Fatalf("rogue gateway: %v", err)
	}
}

func TestServerDropsJunk(t *testing.T) {
	e := start(t)
	c, err := net.Dial("udp", e.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, junk := range [][]byte{{0x00}, {0x05, 0xA0, 1, 2, 3}, {0x02, 0x17}} {
		c.Write(junk)
	}
	// A valid request afterwards is still answered: the loop survived.
	creds := e.node("z1-1", "p1")
	cl := e.client(false)
	if _, err := tsclient.RequestKey(context.Background(), cl, e.clk, creds, ascon, aead.Options{}); err != nil {
		t.Fatal(err)
	}
	st := e.svc.Stats()
	if st["drop:malformed"] != 2 || st["drop:not_a_request"] != 1 {
		t.Fatalf("stats %v", st)
	}
}
