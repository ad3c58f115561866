// Package envelope implements lsmqtt's end-to-end payload envelope: the bytes
// a node publishes instead of its plaintext reading, so that the gateway and
// the broker carry data they cannot read or alter undetected.
//
// The layout (docs/protocol.md, "Payload envelope") is 11 header octets —
// version and suite, key id, sender, sequence number — then the AEAD
// ciphertext and tag. The header and the full MQTT topic name are the
// associated data; the nonce is derived from the header so that it never
// repeats under one key (a key belongs to one sender session and the
// sequence number only grows).
//
// A Receiver keeps a sliding replay window per key and sender and rejects
// malformed, unknown-key, expired-key, wrong-sender, replayed and tampered
// envelopes with typed errors, counting each reason. Keys can be wiped.
//
// Parse and AppendHeader are the codec (standard library only, never panic);
// Sealer and Receiver add the cryptography from trust/aead.
package envelope
