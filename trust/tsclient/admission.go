package tsclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/keywrap"
)

// Verdict is the TS's decision on a node's admission.
type Verdict struct {
	Status mqttsn.TSStatus
	Sender uint16 // the node's device number, when admitted
	Group  string // the node's patient group, when admitted
}

// Admitted reports whether the node may use its session.
func (v Verdict) Admitted() bool { return v.Status == mqttsn.TSOK }

// Verifier decides on a node's admission proof for a gateway's challenge.
// RemoteVerifier asks a TS over UDP; ts.Service.Verifier answers in-process.
type Verifier interface {
	VerifyAdmission(ctx context.Context, gateway, clientID string, challenge, proof []byte) (Verdict, error)
}

// NewChallenge returns a TS-CHALLENGE with a fresh random challenge.
func NewChallenge(gateway string) (*mqttsn.TSChallenge, error) {
	ch := &mqttsn.TSChallenge{Challenge: make([]byte, mqttsn.TSNonceLen), Gateway: []byte(gateway)}
	if _, err := rand.Read(ch.Challenge); err != nil {
		return nil, err
	}
	return ch, nil
}

// Prove answers a gateway's TS-CHALLENGE for the node described by creds.
func Prove(creds *Credentials, ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) {
	p, err := keywrap.Prove(creds.PSS, ch.Challenge, string(ch.Gateway), creds.Name)
	if err != nil {
		return nil, err
	}
	return &mqttsn.TSProof{Challenge: bytes.Clone(ch.Challenge), Proof: p}, nil
}

// RemoteVerifier asks the TS over a Client, as the gateway described by
// creds (registered in the TS with `lsmqtt ts register --gateway`).
type RemoteVerifier struct {
	Client *Client
	Creds  *Credentials
}

// ErrVerdictForged is returned for an admission answer whose MAC does not
// verify. RemoteVerifier ignores such answers and keeps waiting; if none
// other comes it fails with a *TimeoutError carrying this.
var ErrVerdictForged = errors.New("tsclient: admission verdict does not authenticate")

// VerifyAdmission implements Verifier: TS-ADMITREQ out, authenticated
// TS-ADMITRESP for the same challenge and client back. A gateway must treat
// every error as a refusal.
func (v *RemoteVerifier) VerifyAdmission(ctx context.Context, gateway, clientID string, challenge, proof []byte) (Verdict, error) {
	req := &mqttsn.TSAdmitRequest{Challenge: challenge, Proof: proof, Gateway: []byte(gateway), ClientID: []byte(clientID)}
	if err := keywrap.SignAdmitRequest(v.Creds.PSS, req); err != nil {
		return Verdict{}, err
	}
	var verdict Verdict
	err := v.Client.RoundTrip(ctx, req, challenge, func(m mqttsn.Message) (bool, error) {
		r, ok := m.(*mqttsn.TSAdmitResponse)
		if !ok || string(r.ClientID) != clientID || !bytes.Equal(r.Challenge, challenge) {
			return false, nil
		}
		if !keywrap.VerifyAdmitResponse(v.Creds.PSS, gateway, r) {
			return false, ErrVerdictForged
		}
		verdict = Verdict{Status: r.Status, Sender: r.Sender}
		if r.Status == mqttsn.TSOK {
			verdict.Group = string(r.Group)
		}
		return true, nil
	})
	return verdict, err
}
