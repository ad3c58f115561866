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
// # Same client id from another address
//
// A CONNECT with the client id of a session bound to another address takes
// that session over once the connect completes, as MQTT 3.1.1 §3.1.4 does
// for a second connection: the old address gets a DISCONNECT, the will is
// not published, and CleanSession decides whether the session's state
// carries over. The connect completes only after the Authenticator admitted
// it, so with a real Authenticator (secure mode) a take-over needs admission,
// and a refused CONNECT leaves the existing session untouched; with Open
// (open mode) it is the specification's behaviour. A sleeping client may wake
// with PINGREQ from a new address only in open mode; in secure mode it must
// CONNECT there.
//
// # Concurrency
//
// One goroutine per served PacketConn reads datagrams (batched with recvmmsg
// on UDP sockets, batchio.go) and handles them, spreading a backlog over read
// workers by sender so that one client's messages stay in order. State is
// guarded by one mutex, never held across a broker call. Broker calls that
// may block (subscribes, attaches, publishes to an external broker) run on a
// pool of workers (pool.go), bounded by MaxBrokerOps. Timers come from an
// injectable clock.
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
