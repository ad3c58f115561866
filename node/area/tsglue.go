package area

import (
	"context"
	"fmt"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Admission into an area's gateway is trust/gatewayauth's Authenticator
// (area.go); a gateway relaying to a TS over UDP uses gatewayauth.KeyRelay.

// KeyRelay returns the gateway's extension handler for TS-KEYREQ, answered
// by an in-process TS.
//
// It is not trust/gatewayauth's KeyRelay, and it does not refuse, as that
// one does, a request from a client without an admitted session or in
// another principal's name. Two things keep it:
//
//   - gatewayauth.KeyRelay forwards only through a *tsclient.Client (the TS
//     over UDP); an in-process TS on a virtual clock needs a direct call,
//     which takes an interface in trust/gatewayauth (not this package's to
//     change).
//   - node/measure's subscribing mote connects as a node ("z1-sub") and
//     fetches keys, through this relay, as the caregiver granted the
//     publisher's group ("z1-sub-reader", mote.Config.ReaderCreds): the
//     own-name check refuses that. Fetching under its own admitted name
//     cannot work (the TS hands group keys only to caregivers, and admits
//     only nodes), and fetching over the caregiver's own channel to the TS
//     needs an exchanger for ReaderCreds in node/mote and would change
//     what node/measure measures (the key fetch over the radio).
//
// The TS still authenticates every request (a MAC under the requester's
// PSS) and wraps every key under it: the relay learns nothing.
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
