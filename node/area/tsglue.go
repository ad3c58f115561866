package area

import (
	"context"
	"fmt"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/gatewayauth"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Admission is trust/gatewayauth's Authenticator under its older name and
// fields (Name is gatewayauth's Gateway): TS-CHALLENGE, TS-PROOF and the
// Trusted System's verdict. New code uses gatewayauth.Authenticator; this
// stays for callers not yet switched.
type Admission struct {
	// Name is the gateway's name, bound into the proof.
	Name     string
	Verifier tsclient.Verifier
}

// Admit implements gateway.Authenticator with gatewayauth.Authenticator.
func (a *Admission) Admit(ctx context.Context, req *gateway.AdmitRequest) error {
	return (&gatewayauth.Authenticator{Gateway: a.Name, Verifier: a.Verifier}).Admit(ctx, req)
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
