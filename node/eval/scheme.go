package eval

import (
	"fmt"

	"github.com/lsmqtt/lsmqtt/node/energy"
)

// Scheme is a security scheme compared in the evaluation.
type Scheme string

const (
	// PaperXOR is the paper's proposal: TS key delivery and XOR (§4.1).
	PaperXOR Scheme = "paper-xor"
	// Ascon128 is lsmqtt's default: TS key delivery, Ascon-AEAD128 envelope.
	Ascon128 Scheme = "ascon128"
	// AES128CCM8 is TS key delivery with an AES-128-CCM-8 envelope.
	AES128CCM8 Scheme = "aes128-ccm8"
	// CBDTLS is certificate-based DTLS 1.2 between node and gateway
	// (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, RFC 7251), the paper's baseline.
	CBDTLS Scheme = "cb-dtls"
)

// Schemes lists every scheme in display order.
func Schemes() []Scheme { return []Scheme{PaperXOR, Ascon128, AES128CCM8, CBDTLS} }

// ParseScheme checks a scheme name.
func ParseScheme(s string) (Scheme, error) {
	for _, k := range Schemes() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("eval: unknown scheme %q (want paper-xor, ascon128, aes128-ccm8 or cb-dtls)", s)
}

// suite is the payload cipher of a scheme.
func (s Scheme) suite() energy.Suite {
	switch s {
	case PaperXOR:
		return energy.PaperXOR
	case Ascon128:
		return energy.Ascon128
	default:
		return energy.AES128CCM8 // AES128CCM8, and CB-DTLS's record protection
	}
}

// tagBytes is the authentication tag the scheme adds to each message.
func (s Scheme) tagBytes() int {
	switch s {
	case PaperXOR:
		return 0
	case Ascon128:
		return 16
	default:
		return 8
	}
}
