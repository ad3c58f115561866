package area

import (
	"bytes"
	"context"
	"fmt"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Admission admits only nodes that prove they hold their PSS, as the TS
// judges it (gateway.Authenticator).
type Admission struct {
	// Name is the gateway's name, bound into the proof.
	Name     string
	Verifier tsclient.Verifier
}

// Admit challenges the connecting node and asks the verifier.
func (a *Admission) Admit(ctx context.Context, req *gateway.AdmitRequest) error {
	ch, err := tsclient.NewChallenge(a.Name)
	if err != nil {
		return err
	}
	ans, err := req.Exchange(ctx, ch)
	if err != nil {
		return err
	}
	p, ok := ans.(*mqttsn.TSProof)
	if !ok || !bytes.Equal(p.Challenge, ch.Challenge) {
		return mqttsn.RejectedNotSupported
	}
	v, err := a.Verifier.VerifyAdmission(ctx, a.Name, req.ClientID, ch.Challenge, p.Proof)
	if err != nil {
		return fmt.Errorf("%w: %v", mqttsn.RejectedNotSupported, err)
	}
	if !v.Admitted() {
		return mqttsn.RejectedNotSupported
	}
	return nil
}

// KeyRelay returns the gateway's extension handler for TS-KEYREQ, answered
// by an in-process TS.
func KeyRelay(svc *ts.Service) gateway.ExtensionHandler {
	return func(req *gateway.ExtensionRequest) {
		m, ok := req.Msg.(*mqttsn.TSKeyRequest)
		if !ok {
			return
		}
		if resp := svc.HandleKeyRequest(m); resp != nil {
			_ = req.Reply(resp)
		}
	}
}

// RemoteKeyRelay returns the extension handler for TS-KEYREQ that forwards
// the request to a TS over UDP and every answer back to the node.
func RemoteKeyRelay(c *tsclient.Client) gateway.ExtensionHandler {
	return func(req *gateway.ExtensionRequest) {
		m, ok := req.Msg.(*mqttsn.TSKeyRequest)
		if !ok {
			return
		}
		reply := req.Reply
		_ = c.Forward(m, func(resp *mqttsn.TSKeyResponse) { _ = reply(resp) })
	}
}

// LocalExchanger carries key requests straight to an in-process TS
// (tsclient.KeyExchanger), for caregivers in the same process.
type LocalExchanger struct{ Service *ts.Service }

// ExchangeKey implements tsclient.KeyExchanger.
func (x LocalExchanger) ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (bool, error)) error {
	resp := x.Service.HandleKeyRequest(req)
	if resp == nil {
		return tsclient.ErrTimeout
	}
	done, err := accept(resp)
	if !done {
		return fmt.Errorf("%w: %v", tsclient.ErrTimeout, err)
	}
	return err
}
