// Package tsclient is the Trusted System's client side, used by nodes,
// gateways and caregiver tools:
//
//   - Credentials: the credential file `lsmqtt ts register` writes (mode 0600).
//   - Client: TS messages over UDP straight to the TS, with retransmission on
//     an injectable clock; also forwards relayed key requests for a gateway.
//   - Session: a node's payload keys: fetches a fresh key, rotates it before
//     expiry, wipes every key when the session ends.
//   - Reader: a caregiver's receiver that fetches the keys of the groups it
//     may read on demand and opens envelopes.
//   - Admitter: the gateway's side of admission (challenge, and the TS's
//     verdict on the node's proof), and Prove, the node's side.
package tsclient
