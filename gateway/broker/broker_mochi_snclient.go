package broker

import (
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// mochi sizes a client's outbound queue (a channel of MaximumClientWritesPending
// packet pointers, 8 B each) from its server's capabilities when the client is
// made, and makes one for every client. An MQTT-SN client never uses it: it has
// no network connection inside mochi (mochi returns before queueing for a
// client without one) and its subscriptions are inline ones whose handlers call
// the DeliverFunc. With the 1,024 pending writes this adapter used to ask for,
// the queue was 8 KiB of each idle MQTT-SN session's 12.5 KiB; TCP subscribers,
// on the other hand, need a large queue so that a burst is not dropped.
//
// So MQTT-SN clients are made by a second mochi server that is never served
// and whose capabilities ask for no pending writes at all. It shares the real
// server's Info counters (a client's publishes are counted there) and has the
// same allow-all auth; the client is then added to the real server's client
// list and its packets are injected there, as before. The hooks a client
// calls through its own server are the outbound and network-read ones, which
// an MQTT-SN client never reaches.

// newSNClientFactory returns the never-served server that makes MQTT-SN
// clients for srv.
func newSNClientFactory(srv *mqtt.Server, log *slog.Logger) *mqtt.Server {
	caps := *srv.Options.Capabilities // copy: srv's own stay as they are
	caps.MaximumClientWritesPending = 0
	caps.TopicAliasMaximum = 0 // MQTT v5 topic aliases: MQTT-SN clients are injected as v3.1.1
	f := mqtt.New(&mqtt.Options{Capabilities: &caps, Logger: log})
	f.Info = srv.Info
	return f
}

// newSNClient makes the mochi client standing for the MQTT-SN client id
// (inline: mochi skips ACL and topic validity checks the gateway has made).
func (e *Embedded) newSNClient(id string) *mqtt.Client {
	return e.snSrv.NewClient(nil, listenerID, id, true)
}
