package registry

import (
	"slices"
	"time"

	"github.com/lsmqtt/lsmqtt/trust/aead"
)

// Kind is what a principal is.
type Kind string

const (
	KindNode      Kind = "node"      // a sensor: publishes, gets fresh keys for its own group
	KindCaregiver Kind = "caregiver" // a subscriber: fetches keys of the groups it is granted
	KindGateway   Kind = "gateway"   // asks the TS to check nodes' admission proofs
)

// Status of a principal.
type Status string

const (
	StatusActive  Status = "active"
	StatusRevoked Status = "revoked"
)

// Principal is a registered node, caregiver or gateway.
type Principal struct {
	Name    string    `json:"name"`
	Kind    Kind      `json:"kind"`
	Status  Status    `json:"status"`
	PSS     []byte    `json:"pss,omitempty"`    // 16 octets
	Sender  uint16    `json:"sender,omitempty"` // nodes: device number in envelopes
	Group   string    `json:"group,omitempty"`  // nodes: the patient group
	Access  []string  `json:"access,omitempty"` // caregivers: groups they may read
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether the principal is not revoked.
func (p *Principal) Active() bool { return p.Status == StatusActive }

// MayRead reports whether a caregiver's access list holds group.
func (p *Principal) MayRead(group string) bool {
	return p.Kind == KindCaregiver && slices.Contains(p.Access, group)
}

// Wipe zeroes the principal's copy of its pre-shared secret.
func (p *Principal) Wipe() { clear(p.PSS) }

// KeyRecord is one issued payload key.
type KeyRecord struct {
	ID       uint32    `json:"id"`
	Suite    aead.ID   `json:"suite"`
	Material []byte    `json:"material,omitempty"`
	Owner    string    `json:"owner"` // the node it was issued to
	Sender   uint16    `json:"sender"`
	Group    string    `json:"group"`
	Created  time.Time `json:"created"`
	NotAfter time.Time `json:"not_after"`
}

// Wipe zeroes the record's copy of the key material.
func (k *KeyRecord) Wipe() { clear(k.Material) }
