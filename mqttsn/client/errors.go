package client

import "errors"

var (
	// ErrTimeout: no answer after Nretry retransmissions (§6.13). For
	// requests of a connected client it also means the connection is lost.
	ErrTimeout = errors.New("mqttsn client: no answer from gateway")
	// ErrNotConnected: the request needs an active connection (Connect first).
	ErrNotConnected = errors.New("mqttsn client: not connected")
	// ErrDisconnected: the gateway sent an unsolicited DISCONNECT (§6.12).
	ErrDisconnected = errors.New("mqttsn client: disconnected by gateway")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("mqttsn client: closed")
	// ErrNoGateway: no gateway address is known (SearchGW or SetGateway first).
	ErrNoGateway = errors.New("mqttsn client: no gateway address")
	// ErrTopic: the topic is not usable for this operation (e.g. QoS -1 with
	// a normal topic, a short name that is not two characters).
	ErrTopic = errors.New("mqttsn client: invalid topic for this operation")
)
