// Package ts is the Trusted System service: it answers TS-KEYREQ with
// payload keys wrapped under the requester's pre-shared secret, and
// TS-ADMITREQ with an authenticated verdict on a node's admission proof
// (docs/protocol.md "Trusted System messages", docs/security.md).
//
// Service holds the policy and is transport-free; Server puts it on a
// net.PacketConn (UDP) for `lsmqtt ts serve`. State lives in a
// trust/registry file.
package ts
