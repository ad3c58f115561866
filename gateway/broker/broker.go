package broker

import (
	"context"
	"errors"
)

// Message is an application message crossing the seam.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte // 0, 1 or 2 (MQTT-SN QoS -1 is published as 0)
	Retain  bool
}

// DeliverFunc receives a message the broker routes to clientID because of one of
// that client's subscriptions. It is called on the adapter's goroutine and must
// not block (the gateway hands it off to a queue). Payload is owned by the callee.
type DeliverFunc func(clientID string, m Message)

// State is the broker connection state, for metrics and /healthz.
type State int

const (
	StateDisconnected State = iota
	StateConnecting
	StateConnected
)

// ErrBusy means the adapter cannot accept the message now (its bounded outbound
// queue is full); the gateway answers the client with "rejected: congestion".
var ErrBusy = errors.New("broker: busy")

// Broker is what the gateway needs from an MQTT broker.
type Broker interface {
	// Attach makes clientID known to the broker (transparent mode: opens its own
	// connection; embedded: each MQTT-SN client appears as its own client id).
	// clean=false keeps broker-side subscriptions across Detach/Attach.
	Attach(ctx context.Context, clientID string, clean bool) error
	// Detach ends clientID's presence at the broker.
	Detach(ctx context.Context, clientID string) error
	// Publish returns nil once the message is accepted: acknowledged by the broker,
	// or (external brokers during an outage) queued in the adapter's bounded queue
	// that it delivers after reconnecting. ErrBusy when that bound is hit.
	Publish(ctx context.Context, clientID string, m Message) error
	// Subscribe subscribes clientID to an MQTT topic filter (wildcards allowed) and
	// returns the granted QoS.
	Subscribe(ctx context.Context, clientID, filter string, qos byte) (byte, error)
	Unsubscribe(ctx context.Context, clientID, filter string) error
	State() State
	Close() error
}

// NonBlocking is a capability a Broker may have: PublishNeverBlocks reports
// whether its Publish returns without waiting on the network or on a
// subscriber (an in-process broker that routes in memory and queues for each
// subscriber). The gateway then publishes QoS 1/2 on its reading goroutine
// instead of handing each call to a worker. Adapters that wait for a PUBACK
// from a remote broker do not implement it, or report false.
type NonBlocking interface {
	PublishNeverBlocks() bool
}

// PublishNeverBlocks reports whether b has the NonBlocking capability and
// says so. A wrapper around a Broker (metrics, fault injection) hides the
// capability unless it forwards it.
func PublishNeverBlocks(b Broker) bool {
	nb, ok := b.(NonBlocking)
	return ok && nb.PublishNeverBlocks()
}
