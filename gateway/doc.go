// Package gateway is lsmqtt's MQTT-SN gateway: it serves MQTT-SN v1.2
// clients (Stanford-Clark and Truong, IBM, 2013) over any net.PacketConn —
// UDP sockets for IPv4 and IPv6, a border router's conn onto the 6LoWPAN
// mesh — and bridges them to an MQTT broker through the broker.Broker seam
// (gateway/broker: embedded mochi-mqtt or an external broker).
//
// It implements the whole client lifecycle of the specification: ADVERTISE
// and SEARCHGW/GWINFO (§6.1), CONNECT with the will flow (§6.2) and
// CleanSession (§6.3), will updates (§6.4), REGISTER/REGACK both ways (§6.5,
// §6.10), PUBLISH with QoS -1, 0, 1 and 2 over normal, pre-defined and short
// topic ids (§6.6–§6.8), SUBSCRIBE/UNSUBSCRIBE with wildcards (§6.9),
// keep-alive (§6.11), DISCONNECT (§6.12), retransmission with Tretry/Nretry
// (§6.13), sleeping clients (§6.14) and forwarder encapsulation (§5.5).
//
// Two seams let other packages extend it: an Authenticator admits clients
// between CONNECT and CONNACK, exchanging extension messages with them (the
// Trusted System's admission), and ExtensionHandlers receive the extension
// messages clients send (Trusted System relay 0xA0–0xAF, handover 0xB0–0xBF).
//
// # Concurrency
//
// One goroutine per served PacketConn reads and handles datagrams; state is
// guarded by one mutex, never held across a broker call. Broker calls that
// may block (QoS 1/2 publishes, subscribes, attaches) run on their own
// goroutines, bounded by MaxBrokerOps. Timers come from an injectable clock.
//
// # Limits and answers
//
// Every limit answers with the specification's code: CONNACK, PUBACK, SUBACK
// or REGACK "rejected: congestion" beyond MaxClients, MaxInflight, MaxBrokerOps
// or MaxTopicsPerClient; PUBACK "rejected: invalid topic ID" for unknown
// topic ids; DISCONNECT to a sender without a session. Malformed and illegal
// datagrams are dropped, counted by reason (lsmqtt_gateway_drops_total) and
// logged at debug level.
package gateway
