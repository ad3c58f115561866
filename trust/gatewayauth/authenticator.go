package gatewayauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Authenticator implements gateway.Authenticator with Trusted System
// admission (docs/protocol.md "Admission").
type Authenticator struct {
	// Gateway is this gateway's name: it is in the challenge, and the node's
	// proof is bound to it, so a proof cannot be replayed at another gateway.
	Gateway string
	// Verifier checks proofs: a tsclient.RemoteVerifier (TS over UDP) or
	// ts.Service.Verifier() (TS in this process).
	Verifier tsclient.Verifier
	// Logger gets one line per refusal (client id and reason). Default: discard.
	Logger *slog.Logger
}

// AdmissionError is a refused admission. It unwraps to the CONNACK return
// code the gateway sends: "rejected: congestion" when the TS could not be
// asked (try again later), "rejected: not supported" otherwise (MQTT-SN v1.2
// has no "not authorised").
type AdmissionError struct {
	ClientID string
	Reason   string
	Code     mqttsn.ReturnCode
	Err      error
}

func (e *AdmissionError) Error() string {
	s := "gatewayauth: " + e.ClientID + " not admitted: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the return code and the underlying error.
func (e *AdmissionError) Unwrap() []error { return []error{e.Code, e.Err} }

// Admit implements gateway.Authenticator: TS-CHALLENGE to the client, its
// TS-PROOF back, the TS's verdict on it.
func (a *Authenticator) Admit(ctx context.Context, req *gateway.AdmitRequest) error {
	refuse := func(reason string, code mqttsn.ReturnCode, err error) error {
		e := &AdmissionError{ClientID: req.ClientID, Reason: reason, Code: code, Err: err}
		a.logger().Info("admission refused", "client", req.ClientID, "addr", req.Addr, "reason", reason, "err", err)
		return e
	}
	if !mqttsn.ValidTSName(req.ClientID) {
		return refuse("client id cannot be a registered name", mqttsn.RejectedNotSupported, nil)
	}
	ch, err := tsclient.NewChallenge(a.Gateway)
	if err != nil {
		return refuse("no challenge", mqttsn.RejectedCongestion, err)
	}
	ans, err := req.Exchange(ctx, ch)
	if err != nil {
		// A client that does not speak the TS extension never answers.
		return refuse("no proof", mqttsn.RejectedNotSupported, err)
	}
	proof, ok := ans.(*mqttsn.TSProof)
	if !ok || !bytes.Equal(proof.Challenge, ch.Challenge) {
		return refuse("answer is not a proof for this challenge", mqttsn.RejectedNotSupported, nil)
	}
	v, err := a.Verifier.VerifyAdmission(ctx, a.Gateway, req.ClientID, ch.Challenge, proof.Proof)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return refuse("trusted system unavailable", mqttsn.RejectedCongestion, err)
	}
	if !v.Admitted() {
		return refuse(v.Status.String(), mqttsn.RejectedNotSupported, nil)
	}
	a.logger().Debug("admitted", "client", req.ClientID, "device", v.Sender, "group", v.Group)
	return nil
}

func (a *Authenticator) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a.Logger
}
