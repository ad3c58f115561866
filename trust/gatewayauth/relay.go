package gatewayauth

import (
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// KeyRelay forwards TS-KEYREQ from admitted clients to the TS and routes
// each TS-KEYRESP back to the client that asked (by the request's nonce).
// The gateway learns nothing: the request is MACed and the answer wrapped
// under keys derived from the node's secret.
type KeyRelay struct {
	// Client reaches the TS. Required.
	Client *tsclient.Client
	// Logger gets debug lines for refused relays. Default: discard.
	Logger *slog.Logger

	relayed, refused atomic.Uint64
}

// Extensions returns the handler map for gateway.Config.Extensions.
func (r *KeyRelay) Extensions() map[byte]gateway.ExtensionHandler {
	return map[byte]gateway.ExtensionHandler{byte(mqttsn.TypeTSKeyRequest): r.Handle}
}

// Stats returns how many requests were relayed and refused.
func (r *KeyRelay) Stats() (relayed, refused uint64) { return r.relayed.Load(), r.refused.Load() }

// Handle is the gateway.ExtensionHandler for TS-KEYREQ. It relays only for
// a client with a live session (admitted), asking in its own name.
func (r *KeyRelay) Handle(req *gateway.ExtensionRequest) {
	m, ok := req.Msg.(*mqttsn.TSKeyRequest)
	switch {
	case !ok:
		r.refuse(req, "not a TS-KEYREQ")
		return
	case req.ClientID == "":
		r.refuse(req, "no admitted session")
		return
	case string(m.Name) != req.ClientID:
		r.refuse(req, "asks in another name")
		return
	}
	reply := req.Reply
	if err := r.Client.Forward(m, func(resp *mqttsn.TSKeyResponse) { reply(resp) }); err != nil {
		r.refuse(req, "cannot reach the trusted system: "+err.Error())
		return
	}
	r.relayed.Add(1)
}

func (r *KeyRelay) refuse(req *gateway.ExtensionRequest, why string) {
	r.refused.Add(1)
	l := r.Logger
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l.Debug("key request not relayed", "client", req.ClientID, "addr", req.Addr, "reason", why)
}
