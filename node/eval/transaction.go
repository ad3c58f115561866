package eval

import (
	"errors"
	"fmt"
	"time"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// DefaultSessionTx is the session length the model assumes: one key delivery
// or DTLS handshake per 100 transactions (10 hours at 10 transactions/hour).
const DefaultSessionTx = 100

// Each modelled component runs reps times within window, and its energy is
// its excess over an idle meter run for the same time, divided by reps.
// Repeating keeps Energest's tick granularity (30.5 µs) from swallowing
// short events such as a 120-cycle XOR.
const (
	reps   = 1000
	window = reps * time.Hour
)

// Handshake is the certificate-based DTLS 1.2 handshake as seen by one mote
// (ECDHE-ECDSA with certificates).
type Handshake struct {
	// TXBytes and RXBytes split the ≈1,550 bytes of a DTLS 1.2 handshake with
	// a server certificate (draft-ietf-iotops-security-protocol-comparison)
	// into what the mote sends and receives. The split is our assumption.
	TXBytes int `json:"tx_bytes"`
	RXBytes int `json:"rx_bytes"`
	// Flights is the number of datagrams each way (ClientHello,
	// ClientHello with cookie, final flight; HelloVerifyRequest, server
	// flight, ChangeCipherSpec+Finished).
	Flights int `json:"flights"`
	// The public-key work of the client: verify the server certificate and
	// the ServerKeyExchange signature, generate an ephemeral key and the
	// shared secret, sign CertificateVerify.
	ECDSAVerify int `json:"ecdsa_verify"`
	ECDSASign   int `json:"ecdsa_sign"`
	ECDHKeyGen  int `json:"ecdh_keygen"`
	ECDH        int `json:"ecdh"`
	// HashBytes is SHA-256 input: the handshake transcript plus the PRF's
	// HMAC work for master secret, key block and both Finished (≈40 blocks).
	HashBytes int `json:"hash_bytes"`
}

// DefaultHandshake is the CB-DTLS handshake assumed by Model.
func DefaultHandshake() Handshake {
	return Handshake{TXBytes: 520, RXBytes: 1030, Flights: 3,
		ECDSAVerify: 2, ECDSASign: 1, ECDHKeyGen: 1, ECDH: 1, HashBytes: 1550 + 40*64}
}

// KeyDelivery is the TS exchange that gives a mote its session key, as
// UDP payload bytes (an assumption until trust/ fixes its messages).
type KeyDelivery struct {
	// Request: extension header 2, node id 2, nonce 16, group 2.
	RequestBytes int `json:"request_bytes"`
	// Response without key and tag: header 2, nonce 16, epoch 4, expiry 4.
	ResponseBytes int `json:"response_bytes"`
	// Admission challenge (header 2, challenge 16) and proof (header 2, node
	// id 2, then the suite's tag as MAC) for the AEAD schemes; the paper's
	// scheme has no admission.
	ChallengeBytes int `json:"challenge_bytes"`
	ProofBytes     int `json:"proof_bytes"`
}

// DefaultKeyDelivery is the TS exchange assumed by Model.
func DefaultKeyDelivery() KeyDelivery {
	return KeyDelivery{RequestBytes: 22, ResponseBytes: 26, ChallengeBytes: 18, ProofBytes: 4}
}

// Model computes modelled Figures by running an energy.Meter over the
// events of one transaction. The zero value is not usable; use NewModel.
type Model struct {
	Profile     *profile.Profile
	Frames      FrameModel
	SessionTx   int
	Handshake   Handshake
	KeyDelivery KeyDelivery
}

// NewModel returns a model for profile p with the default frames, session
// length, handshake and key delivery, and a payload of payload bytes.
func NewModel(p *profile.Profile, payload int) *Model {
	return &Model{Profile: p, Frames: DefaultFrames(payload), SessionTx: DefaultSessionTx,
		Handshake: DefaultHandshake(), KeyDelivery: DefaultKeyDelivery()}
}

// radio helpers: one frame out with CCA and link-layer ACK, one frame in
// with its ACK. Turnaround time counts as listening (IEEE 802.15.4-2006
// §6.4.1, §7.5.6.4).
type run struct {
	m   *energy.Meter
	p   *profile.Profile
	err error
}

func (r *run) us(n uint64) time.Duration { return time.Duration(n) * time.Microsecond }

func (r *run) send(psdu int) {
	r.m.Stack(r.p.StackCyclesPerFrame)
	r.m.Listen(r.us(r.p.Radio.CCAUS))
	r.keep(r.m.TX(psdu))
	r.m.Listen(r.us(r.p.Radio.TurnaroundUS))
	r.keep(r.m.RX(energy.AckPSDUBytes))
}

func (r *run) recv(psdu int) {
	r.keep(r.m.RX(psdu))
	r.m.Stack(r.p.StackCyclesPerFrame)
	r.m.Listen(r.us(r.p.Radio.TurnaroundUS))
	r.keep(r.m.TX(energy.AckPSDUBytes))
}

func (r *run) crypto(s energy.Suite, op energy.Op, n, ad int) {
	_, err := r.m.Crypto(s, op, n, ad)
	r.keep(err)
}

func (r *run) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

func (md *Model) measure(events func(r *run)) (Component, error) {
	p := md.Profile
	r := &run{m: energy.NewMeter(p), p: p}
	r.m.Advance(window)
	for range reps {
		events(r)
	}
	if r.err != nil {
		return Component{}, r.err
	}
	idle := energy.NewMeter(p)
	idle.Advance(window)
	return marginal(r.m.Snapshot(), idle.Snapshot()).scale(1.0 / reps), nil
}

// Figures runs the modelled transaction and session setup of scheme s.
func (md *Model) Figures(s Scheme) (Figures, error) {
	if md == nil || md.Profile == nil {
		return Figures{}, errors.New("eval: model without a profile")
	}
	if _, err := ParseScheme(string(s)); err != nil {
		return Figures{}, err
	}
	p, fm := md.Profile, md.Frames
	sz := fm.Sizes(s, p.Radio.FCSBytes)
	for _, n := range []int{sz.PublishUp, sz.PublishDown, sz.PubackUp, sz.PubackDown} {
		if n > p.Radio.MaxPSDUBytes {
			return Figures{}, fmt.Errorf("eval: %s frame of %d bytes exceeds the %d-byte PSDU; use a smaller payload", s, n, p.Radio.MaxPSDUBytes)
		}
	}
	suite := s.suite()
	f := Figures{Scheme: s, Profile: p.Name, Origin: Modelled, SessionTx: md.SessionTx, Frames: sz}
	var err error
	steps := []struct {
		c  *Component
		ev func(r *run)
	}{
		{&f.Encrypt, func(r *run) {
			if s == CBDTLS {
				r.crypto(suite, energy.Seal, fm.MQTTSNPublish+fm.Payload, fm.DTLSAD)
				r.crypto(suite, energy.Open, fm.MQTTSNPuback, fm.DTLSAD)
				return
			}
			r.crypto(suite, energy.Seal, fm.Payload, fm.EnvelopeAD)
		}},
		{&f.Transmit, func(r *run) { r.send(sz.PublishUp); r.recv(sz.PubackDown) }},
		{&f.Receive, func(r *run) { r.recv(sz.PublishDown); r.send(sz.PubackUp) }},
		{&f.Decrypt, func(r *run) {
			if s == CBDTLS {
				r.crypto(suite, energy.Open, fm.MQTTSNPublish+fm.Payload, fm.DTLSAD)
				r.crypto(suite, energy.Seal, fm.MQTTSNPuback, fm.DTLSAD)
				return
			}
			r.crypto(suite, energy.Open, fm.Payload, fm.EnvelopeAD)
		}},
		{&f.SetupPublisher, func(r *run) { md.setup(r, s, true) }},
		{&f.SetupSubscriber, func(r *run) { md.setup(r, s, false) }},
	}
	for _, st := range steps {
		if *st.c, err = md.measure(st.ev); err != nil {
			return Figures{}, fmt.Errorf("eval: %s: %w", s, err)
		}
	}
	idle := energy.NewMeter(p)
	idle.Advance(window)
	f.IdlePowerMW = idle.Snapshot().AveragePowerMW()
	f.Notes = md.notes(s)
	return f, nil
}

// setup is one session's setup on a mote: the DTLS handshake, or the TS key
// delivery (with admission for the AEAD schemes).
func (md *Model) setup(r *run, s Scheme, upward bool) {
	fm, p := md.Frames, md.Profile
	upHdr := fm.IPHC + fm.RPLOption + fm.UDP
	downHdr := fm.IPHC + fm.UDP
	sendDatagram := func(n int) {
		fr := fm.Fragments(n, upHdr, p.Radio.FCSBytes, p.Radio.MaxPSDUBytes)
		if fr == nil {
			r.keep(fmt.Errorf("%w: cannot fragment %d bytes", energy.ErrFrameSize, n))
		}
		for _, psdu := range fr {
			r.send(psdu)
		}
	}
	recvDatagram := func(n int) {
		fr := fm.Fragments(n, downHdr, p.Radio.FCSBytes, p.Radio.MaxPSDUBytes)
		if fr == nil {
			r.keep(fmt.Errorf("%w: cannot fragment %d bytes", energy.ErrFrameSize, n))
		}
		for _, psdu := range fr {
			r.recv(psdu)
		}
	}
	if s == CBDTLS {
		h := md.Handshake
		if h.Flights <= 0 {
			r.keep(errors.New("handshake with no flights"))
			return
		}
		for i := range h.Flights {
			sendDatagram(share(h.TXBytes, h.Flights, i))
			recvDatagram(share(h.RXBytes, h.Flights, i))
		}
		for range h.ECDHKeyGen {
			r.crypto(energy.NoSuite, energy.ECDHKeyGen, 0, 0)
		}
		for range h.ECDH {
			r.crypto(energy.NoSuite, energy.ECDH, 0, 0)
		}
		for range h.ECDSAVerify {
			r.crypto(energy.NoSuite, energy.ECDSAVerify, 0, 0)
		}
		for range h.ECDSASign {
			r.crypto(energy.NoSuite, energy.ECDSASign, 0, 0)
		}
		r.crypto(energy.NoSuite, energy.Hash, h.HashBytes, 0)
		return
	}
	k := md.KeyDelivery
	suite := s.suite()
	key := 16
	if s == PaperXOR {
		key = 8 // the paper's 64-bit key
	}
	if s != PaperXOR {
		recvDatagram(k.ChallengeBytes)
		r.crypto(suite, energy.Seal, 0, k.ChallengeBytes) // MAC over the challenge
		sendDatagram(k.ProofBytes + s.tagBytes())
	}
	sendDatagram(k.RequestBytes)
	recvDatagram(k.ResponseBytes + key + s.tagBytes())
	r.crypto(energy.NoSuite, energy.KDF, 0, 0)         // key-encryption key from the PSS
	r.crypto(suite, energy.Open, key, k.ResponseBytes) // unwrap, header as AD
}

// share splits total into n near-equal parts and returns part i.
func share(total, n, i int) int {
	q, rem := total/n, total%n
	if i < rem {
		return q + 1
	}
	return q
}

func (md *Model) notes(s Scheme) []string {
	n := []string{
		fmt.Sprintf("modelled: one MQTT-SN PUBLISH (QoS 1) of a %d-byte record per transaction, one hop to an always-on border router, CCA + link ACK per frame", md.Frames.Payload),
		fmt.Sprintf("session setup amortised over %d transactions", md.SessionTx),
	}
	switch s {
	case CBDTLS:
		h := md.Handshake
		n = append(n, fmt.Sprintf("DTLS 1.2 handshake %d B sent + %d B received (1,550 B total per draft-ietf-iotops-security-protocol-comparison; split assumed), %d ECDSA verify, %d sign, %d ECDH keygen, %d ECDH", h.TXBytes, h.RXBytes, h.ECDSAVerify, h.ECDSASign, h.ECDHKeyGen, h.ECDH),
			"hop-by-hop: records are decrypted at the gateway; the MQTT-SN header and PUBACK are protected too")
	case PaperXOR:
		n = append(n, "XOR under a 64-bit key: no integrity, no replay protection (insecure, reproduction only)")
	}
	return n
}

// Publish charges m with one transaction of scheme s as the publishing mote
// does it (encrypt, then send the PUBLISH and take the PUBACK), without
// session setup. It is the modelled node's per-message work, for callers
// that meter a longer run.
func (md *Model) Publish(m *energy.Meter, s Scheme) error {
	if _, err := ParseScheme(string(s)); err != nil {
		return err
	}
	fm := md.Frames
	sz := fm.Sizes(s, md.Profile.Radio.FCSBytes)
	r := &run{m: m, p: md.Profile}
	if s == CBDTLS {
		r.crypto(s.suite(), energy.Seal, fm.MQTTSNPublish+fm.Payload, fm.DTLSAD)
		r.crypto(s.suite(), energy.Open, fm.MQTTSNPuback, fm.DTLSAD)
	} else {
		r.crypto(s.suite(), energy.Seal, fm.Payload, fm.EnvelopeAD)
	}
	r.send(sz.PublishUp)
	r.recv(sz.PubackDown)
	return r.err
}
