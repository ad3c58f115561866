// Package broker is the seam between the MQTT-SN gateway core and an MQTT broker.
// The gateway core imports only the Broker interface (broker.go); the adapters
// live beside it:
//
//   - Embedded (broker_mochi.go): an in-process github.com/mochi-mqtt/server/v2
//     broker for one area, with an optional MQTT TCP listener (allow-all: see
//     Embedded). Each MQTT-SN client appears in it under its own client id.
//   - External (broker_paho.go, paho_conn.go, paho_router.go): any MQTT v5
//     broker through github.com/eclipse/paho.golang, in Aggregating mode (one
//     connection, reference-counted subscriptions fanned out by topic match) or
//     Transparent mode (one connection per client). It survives broker outages:
//     reconnect with backoff, subscriptions restored, accepted messages held in
//     a bounded queue (ErrBusy at the bound) and delivered after reconnecting.
//
// Topic names and filters follow MQTT v3.1.1 §4.7 / MQTT v5.0 §4.7 (topic.go);
// delivery QoS follows MQTT v5.0 §3.3.4 and retained-message flags §3.3.1.3.
// Stats and Collector (metrics.go) export each adapter's counters.
package broker
