// Package client is an MQTT-SN v1.2 client over any net.PacketConn: a plain
// UDP socket (lsmqtt pub/sub), or the emulated 6LoWPAN stack of a node.
//
// It implements the client side of MQTT-SN v1.2 §6: gateway discovery
// (SEARCHGW/GWINFO, ADVERTISE, §6.1), connection setup with the will flow
// (§6.2–6.4), topic registration in both directions (§6.5, §6.10), PUBLISH
// with QoS -1, 0, 1 and 2 and normal, pre-defined and short topic ids
// (§6.6–6.8), SUBSCRIBE/UNSUBSCRIBE (§6.9), keep-alive (§6.11), DISCONNECT
// (§6.12), retransmission with Tretry/Nretry (§6.13), sleeping clients
// (§6.14) and will updates (§5.4.22–5.4.25). A hook sends extension messages
// and waits for typed replies (Request), and unsolicited extension messages
// reach Config.OnUnsolicited.
//
// Time comes from an internal/clock Clock, so keep-alive and retransmission
// run on a virtual clock in tests and simulations. Byte and datagram counters
// (Stats) feed energy accounting.
//
// Goroutines: one reads the PacketConn, one runs callbacks in arrival order
// (callbacks never run on the reader, so they may call the client), one sends
// keep-alive pings. Close stops all three.
package client
