package eval

import (
	"fmt"

	"github.com/lsmqtt/lsmqtt/node/profile"
)

// CodeSize is the code of one scheme's cryptography on the profile's MCU.
type CodeSize struct {
	Scheme      Scheme   `json:"scheme"`
	Bytes       int      `json:"bytes"`       // sum of the known parts
	Complete    bool     `json:"complete"`    // false when a part has no figure
	Approximate bool     `json:"approximate"` // a part is an estimate
	Parts       []string `json:"parts"`
}

// StateItem is one piece of per-node state, in bytes on the mote.
type StateItem struct {
	Name    string   `json:"name"`
	Bytes   int      `json:"bytes"`
	Schemes []Scheme `json:"schemes,omitempty"` // empty: every scheme
}

// Memory answers the paper's §6.2 memory question beside its figure.
type Memory struct {
	PaperBytes int            `json:"paper_bytes"`
	Profile    string         `json:"profile"`
	RAMBytes   int            `json:"ram_bytes"`
	FlashBytes int            `json:"flash_bytes"`
	Code       []CodeSize     `json:"code"`
	State      []StateItem    `json:"state"`
	StateTotal map[Scheme]int `json:"state_total"`
	Notes      []string       `json:"notes"`
}

var codeParts = map[Scheme][]string{
	PaperXOR:   {"xor", "pcg32"},
	Ascon128:   {"ascon-p", "ascon-aead-mode"},
	AES128CCM8: {"aes128", "ccm-mode"},
	CBDTLS:     {"aes128", "ccm-mode", "ecc (ECDSA, ECDH)", "sha256", "dtls 1.2"},
}

// perNodeState is our estimate of the security and MQTT-SN state a mote
// keeps, in bytes (C structs on a 16-bit MCU).
func perNodeState(publishBody int) []StateItem {
	ts := []Scheme{PaperXOR, Ascon128, AES128CCM8}
	aead := []Scheme{Ascon128, AES128CCM8}
	return []StateItem{
		{"PSS (pre-shared secret)", 16, ts},
		{"session key (paper: 64-bit)", 16, aead},
		{"session key (paper: 64-bit)", 8, []Scheme{PaperXOR}},
		{"PCG32 state", 16, []Scheme{PaperXOR}},
		{"key epoch and expiry", 8, aead},
		{"envelope sequence counter", 4, aead},
		{"TS nonce during key delivery", 16, aead},
		{"DTLS session: write keys, IVs, epoch, sequence, replay window, peer", 82, []Scheme{CBDTLS}},
		{"DTLS handshake (transient): transcript hash, randoms, ECDHE pair, master secret, cookie", 352, []Scheme{CBDTLS}},
		{"device certificate and private key", 332, []Scheme{CBDTLS}},
		{"MQTT-SN client: client id, gateway address, msg id, topic ids, timers", 57, nil},
		{"QoS 1 retransmission copy of the last PUBLISH", publishBody, nil},
	}
}

// MemoryReport builds the memory comparison for profile p.
func MemoryReport(p *profile.Profile, fm FrameModel, schemes []Scheme) Memory {
	m := Memory{PaperBytes: PaperMemoryBytes, Profile: p.Name, RAMBytes: p.MCU.RAMBytes,
		FlashBytes: p.MCU.FlashBytes, StateTotal: map[Scheme]int{}}
	for _, s := range schemes {
		c := CodeSize{Scheme: s, Complete: true}
		for _, part := range codeParts[s] {
			n, ok := p.CodeBytes[part]
			switch {
			case part == "aes128" && p.Crypto.HardwareAESBlock > 0:
				c.Parts = append(c.Parts, "aes128: hardware engine")
			case !ok:
				c.Complete = false
				c.Parts = append(c.Parts, part+": no figure")
			default:
				c.Bytes += n
				mark := ""
				if p.IsApproximate("code_bytes."+part) || p.IsApproximate("code_bytes") {
					c.Approximate, mark = true, " (approx.)"
				}
				c.Parts = append(c.Parts, fmt.Sprintf("%s %d B%s", part, n, mark))
			}
		}
		m.Code = append(m.Code, c)
	}
	m.State = perNodeState(fm.MQTTSNPublish + fm.EnvelopeHeader + fm.Payload + 16)
	for _, s := range schemes {
		for _, it := range m.State {
			if len(it.Schemes) == 0 || contains(it.Schemes, s) {
				m.StateTotal[s] += it.Bytes
			}
		}
	}
	m.Notes = []string{
		"paper 6.2: 5,608 bytes for the whole proposed implementation (objdump), against the z1's 92 KB flash and 8 KB RAM",
		"code sizes: FELICS (AES-128 assembly) and AEAD430 (Ascon permutation) from the facts table; mode glue, XOR and PCG32 are estimates",
		"CB-DTLS's ECC, SHA-256 and DTLS code have no figure in the facts table; its total is a lower bound",
		"state: our estimate of the C structs a mote keeps; the RPL and 6LoWPAN state and buffers are common to all schemes and left out",
	}
	return m
}

func contains(s []Scheme, v Scheme) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
