// Package keywrap is the cryptography of the Trusted System's messages
// (docs/protocol.md "Trusted System messages"): key derivation from a
// principal's pre-shared secret with HKDF-SHA256 (RFC 5869), request and
// verdict MACs (HMAC-SHA256, RFC 2104, truncated to 16 octets), the key wrap
// of TS-KEYRESP (Ascon-AEAD128 under a key bound to both nonces), the
// admission proof, and the requester's side of a key exchange (Request),
// which rejects stale, replayed, forged, mismatched and expired answers.
//
// It holds no state beyond one Request and does no I/O; trust/ts and
// trust/tsclient put it on the wire.
package keywrap
