// Package aead holds the authenticated-encryption suites lsmqtt protects
// payloads and wrapped keys with, behind one small descriptor (Suite) whose
// keyed instances are ordinary crypto/cipher.AEAD values.
//
//   - ascon128 (id 1, the default): Ascon-AEAD128 as standardised in
//     NIST SP 800-232 (August 2025), written here from the standard and tested
//     against every known-answer test of the reference implementation.
//   - aes128-ccm8 (id 2): AES-128 in CCM mode with an 8-byte tag, a 13-byte
//     nonce and a 2-byte length field (RFC 3610, M=8, L=2): what IEEE 802.15.4
//     radios such as the CC2420 compute in hardware. Built on crypto/aes.
//   - paper-xor (id 15): the Bashir & Mir (2021) §4.1 scheme, XOR with a
//     keystream drawn from PCG32 seeded by a 64-bit key. INSECURE: no
//     integrity, no nonce, a 64-bit key and a predictable generator. It exists
//     only to reproduce the paper's energy figures and is refused unless the
//     caller sets Options.AllowInsecure and names it explicitly.
//
// All Seal and Open methods append to the caller's dst and allocate nothing
// when dst has room (Ascon and paper-xor always; AES-CCM after its scratch
// pool is warm). The package imports only the standard library.
package aead
