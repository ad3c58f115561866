package gateway

import (
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// ExtensionHandler handles an extension message from a client (Config.Extensions,
// keyed by message type). It runs on the gateway's read loop and must not
// block: long work belongs on the handler's own goroutine, from which Reply
// may be called at any time.
type ExtensionHandler func(req *ExtensionRequest)

// ExtensionRequest is one extension message received from a client.
type ExtensionRequest struct {
	// Msg was decoded from a private copy of the datagram: the handler owns it.
	// It is the registered typed message, or *mqttsn.Unknown.
	Msg mqttsn.Message
	// ClientID is the sender's session if it has one (connected, asleep or
	// awake), else "".
	ClientID string
	// Addr is the sender; for a client behind a forwarder, the forwarder,
	// with NodeID its Wireless Node Id (§5.5).
	Addr   net.Addr
	NodeID []byte
	// Reply sends m to the sender (encapsulated for a forwarder's client).
	Reply func(m mqttsn.Message) error
}
