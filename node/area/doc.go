// Package area runs one hospital area in process, for simulations, demos,
// measurements and tests of emulated motes: an MQTT-SN gateway (package
// gateway) with the embedded broker (gateway/broker), optionally a Trusted
// System (trust/ts, with its registry in a bbolt file) wired into the
// gateway, and either a loopback UDP socket for the gateway, or an emulated
// 6LoWPAN/RPL mesh (rpl/medium and a border router, rpl/border) whose
// router hands the gateway its PacketConn, or both.
//
// Wiring the Trusted System into the gateway (area.go, tsglue.go):
//
//   - Admission is trust/gatewayauth's Authenticator: between CONNECT and
//     CONNACK it sends the node a TS-CHALLENGE (a fresh 16-octet nonce and
//     the gateway's name), takes the node's TS-PROOF and asks the
//     in-process ts.Service for the verdict; only an admitted node gets
//     CONNACK "accepted".
//   - KeyRelay is the gateway's extension handler for TS-KEYREQ: it passes
//     the node's request to the in-process TS and the TS-KEYRESP back to
//     the node. The gateway never sees a key: the answer is wrapped under
//     the node's PSS. (Why it is not gatewayauth's KeyRelay: tsglue.go.)
//
// Caregiver subscribes to the broker in process and opens envelopes with a
// tsclient.Reader that fetches keys from the same TS.
//
// Everything runs on one injectable clock: with a clock.Virtual (and a
// vtime.Driver advancing it) an area emulates hours in seconds.
package area
