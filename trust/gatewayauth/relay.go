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

// Stats returns how many requests were relayed and refused. A request is
// counted relayed before it is sent, so an answer from the TS never
// precedes its request's count; a send that fails is taken back out of
// relayed and counted refused.
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
	// Counted before it leaves: the answer may be delivered, on the TS
	// client's reader, before Forward returns.
	r.relayed.Add(1)
	if err := r.Client.Forward(m, func(resp *mqttsn.TSKeyResponse) { reply(resp) }); err != nil {
		r.relayed.Add(^uint64(0)) // not relayed after all
		r.refuse(req, "cannot reach the trusted system: "+err.Error())
		return
	}
}

func (r *KeyRelay) refuse(req *gateway.ExtensionRequest, why string) {
	r.refused.Add(1)
	l := r.Logger
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l.Debug("key request not relayed", "client", req.ClientID, "addr", req.Addr, "reason", why)
}
