package gateway

import (
	"context"
	"errors"
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Authenticator admits clients. The gateway calls Admit after a client's
// CONNECT (and will flow) and before its CONNACK; the session exists, and
// takes over an earlier session of the same client id, only if Admit returns
// nil. Admit runs on its own goroutine and may block (e.g. to ask the Trusted
// System over UDP); ctx ends when the client gives up (it sends another
// CONNECT or DISCONNECT) or the gateway closes.
//
// A non-nil error is answered with CONNACK carrying that error's
// mqttsn.ReturnCode when it wraps one, else "rejected: not supported".
type Authenticator interface {
	Admit(ctx context.Context, req *AdmitRequest) error
}

// AdmitRequest describes a client asking to connect.
type AdmitRequest struct {
	ClientID     string
	Addr         net.Addr // the client (for a forwarder's client: the forwarder)
	NodeID       []byte   // the forwarder's Wireless Node Id (§5.5), nil when direct
	CleanSession bool

	// Exchange sends challenge to the client (normally an extension message
	// of the Trusted System's range 0xA0–0xAF) and returns the client's
	// answer: the next message in that range it sends. It waits
	// Config.RetryInterval, Config.MaxRetries + 1 times, before failing with
	// ErrNoAnswer, and retransmits the challenge after each wait only while
	// the octets it has sent the address stay within those the address sent
	// (no amplification towards a spoofed source; a client that lost the
	// challenge retransmits its CONNECT). The answer was decoded from a
	// private copy of the datagram: the caller owns it.
	Exchange func(ctx context.Context, challenge mqttsn.Message) (mqttsn.Message, error)
}

// ErrNoAnswer is returned by AdmitRequest.Exchange when the client does not
// answer a challenge.
var ErrNoAnswer = errors.New("gateway: client did not answer the challenge")

// Open admits every client: for tests and for third-party MQTT-SN clients
// (lsmqtt gateway --open).
type Open struct{}

// Admit returns nil.
func (Open) Admit(context.Context, *AdmitRequest) error { return nil }

// AdmitFunc adapts a function to Authenticator.
type AdmitFunc func(ctx context.Context, req *AdmitRequest) error

// Admit calls f.
func (f AdmitFunc) Admit(ctx context.Context, req *AdmitRequest) error { return f(ctx, req) }

// admitCode maps an Admit error to the CONNACK return code.
func admitCode(err error) mqttsn.ReturnCode {
	var rc mqttsn.ReturnCode
	if errors.As(err, &rc) && rc != mqttsn.Accepted && rc.Valid() {
		return rc
	}
	return mqttsn.RejectedNotSupported
}
