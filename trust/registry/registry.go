package registry

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

var (
	bucketPrincipals = []byte("principals") // name → Principal (JSON)
	bucketSenders    = []byte("senders")    // sender (2 octets) → node name
	bucketKeys       = []byte("keys")       // key id (4 octets) → KeyRecord (JSON)
	bucketMeta       = []byte("meta")
	metaNextKey      = []byte("next_key_id")
	metaNextSender   = []byte("next_sender")
	metaSchema       = []byte("schema")
)

const schemaVersion = 1

// Errors callers branch on.
var (
	ErrNotFound  = errors.New("registry: not found")
	ErrExists    = errors.New("registry: name already registered")
	ErrRevoked   = errors.New("registry: principal revoked")
	ErrKind      = errors.New("registry: wrong kind of principal")
	ErrExhausted = errors.New("registry: identifier space exhausted")
	ErrInvalid   = errors.New("registry: invalid name or group")
)

// Options configures Open.
type Options struct {
	// Clock stamps records and computes expiry. Default clock.Real.
	Clock clock.Clock
	// LockTimeout bounds the wait for another process's lock on the file.
	// Default 2 s.
	LockTimeout time.Duration
}

// Registry is the TS's store. It is safe for concurrent use; bbolt allows
// one process at a time to open the file.
type Registry struct {
	db    *bolt.DB
	clock clock.Clock
}

// Open opens (creating it with mode 0600 if needed) the registry at path.
func Open(path string, opt Options) (*Registry, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = 2 * time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPrincipals, bucketSenders, bucketKeys, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); v == nil {
			return meta.Put(metaSchema, []byte{schemaVersion})
		} else if len(v) != 1 || v[0] != schemaVersion {
			return fmt.Errorf("registry: %s has schema %v, want %d", path, v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Registry{db: db, clock: opt.Clock}, nil
}

// Close closes the file.
func (r *Registry) Close() error { return r.db.Close() }

// Path returns the file's path.
func (r *Registry) Path() string { return r.db.Path() }

func getPrincipal(tx *bolt.Tx, name string) (*Principal, error) {
	v := tx.Bucket(bucketPrincipals).Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	p := new(Principal)
	if err := json.Unmarshal(v, p); err != nil {
		return nil, fmt.Errorf("registry: principal %q: %w", name, err)
	}
	return p, nil
}

func putPrincipal(tx *bolt.Tx, p *Principal) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	// bbolt keeps v until the transaction commits, so it cannot be wiped here.
	return tx.Bucket(bucketPrincipals).Put([]byte(p.Name), v)
}

// counter reads, increments and stores a meta counter, starting at 1.
func counter(tx *bolt.Tx, key []byte, max uint64) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	next := uint64(1)
	if v := meta.Get(key); len(v) == 8 {
		next = binary.BigEndian.Uint64(v)
	}
	if next > max {
		return 0, ErrExhausted
	}
	return next, meta.Put(key, binary.BigEndian.AppendUint64(nil, next+1))
}

// register creates a principal with a fresh 128-bit PSS from crypto/rand.
func (r *Registry) register(name string, kind Kind, group string) (*Principal, error) {
	if !mqttsn.ValidTSName(name) || (kind == KindNode && !mqttsn.ValidTSGroup(group)) {
		return nil, ErrInvalid
	}
	p := &Principal{Name: name, Kind: kind, Status: StatusActive, Group: group,
		PSS: make([]byte, 16), Created: r.clock.Now().UTC()}
	if _, err := rand.Read(p.PSS); err != nil {
		return nil, err
	}
	err := r.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPrincipals).Get([]byte(name)) != nil {
			return fmt.Errorf("%w: %q", ErrExists, name)
		}
		if kind == KindNode {
			s, err := counter(tx, metaNextSender, math.MaxUint16)
			if err != nil {
				return err
			}
			p.Sender = uint16(s)
			if err := tx.Bucket(bucketSenders).Put(binary.BigEndian.AppendUint16(nil, p.Sender), []byte(name)); err != nil {
				return err
			}
		}
		return putPrincipal(tx, p)
	})
	if err != nil {
		p.Wipe()
		return nil, err
	}
	return p, nil
}

// RegisterNode registers a sensor node of a patient group and returns it
// with its fresh PSS and device number (write them to its credential file,
// then Wipe).
func (r *Registry) RegisterNode(name, group string) (*Principal, error) {
	return r.register(name, KindNode, group)
}

// RegisterCaregiver registers a caregiver with an empty access list.
func (r *Registry) RegisterCaregiver(name string) (*Principal, error) {
	return r.register(name, KindCaregiver, "")
}

// RegisterGateway registers a gateway.
func (r *Registry) RegisterGateway(name string) (*Principal, error) {
	return r.register(name, KindGateway, "")
}

// Get returns the principal called name (ErrNotFound if none).
func (r *Registry) Get(name string) (*Principal, error) {
	var p *Principal
	err := r.db.View(func(tx *bolt.Tx) (err error) {
		p, err = getPrincipal(tx, name)
		return err
	})
	return p, err
}

// BySender returns the node with device number sender.
func (r *Registry) BySender(sender uint16) (*Principal, error) {
	var p *Principal
	err := r.db.View(func(tx *bolt.Tx) (err error) {
		name := tx.Bucket(bucketSenders).Get(binary.BigEndian.AppendUint16(nil, sender))
		if name == nil {
			return fmt.Errorf("%w: sender %d", ErrNotFound, sender)
		}
		p, err = getPrincipal(tx, string(name))
		return err
	})
	return p, err
}

// Revoke marks a principal revoked: it gets no new keys and gateways refuse
// it. A node's keys that are still valid are cut short to now, so caregivers
// that fetch them later reject what it sends after the revocation.
func (r *Registry) Revoke(name string) error {
	now := r.clock.Now().UTC()
	return r.db.Update(func(tx *bolt.Tx) error {
		p, err := getPrincipal(tx, name)
		if err != nil {
			return err
		}
		defer p.Wipe()
		p.Status, p.Revoked = StatusRevoked, now
		if err := putPrincipal(tx, p); err != nil {
			return err
		}
		if p.Kind != KindNode {
			return nil
		}
		keys := tx.Bucket(bucketKeys)
		var cut []*KeyRecord
		err = keys.ForEach(func(k, v []byte) error {
			var rec KeyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Owner == name && rec.NotAfter.After(now) {
				rec.NotAfter = now
				cut = append(cut, &rec)
			} else {
				rec.Wipe()
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, rec := range cut {
			if err := putKey(tx, rec); err != nil {
				return err
			}
			rec.Wipe()
		}
		return nil
	})
}

// Grant adds group to a caregiver's access list.
func (r *Registry) Grant(caregiver, group string) error {
	if !mqttsn.ValidTSGroup(group) {
		return ErrInvalid
	}
	return r.updateAccess(caregiver, func(acc []string) []string {
		if slices.Contains(acc, group) {
			return acc
		}
		return append(acc, group)
	})
}

// Ungrant removes group from a caregiver's access list.
func (r *Registry) Ungrant(caregiver, group string) error {
	return r.updateAccess(caregiver, func(acc []string) []string {
		return slices.DeleteFunc(acc, func(g string) bool { return g == group })
	})
}

func (r *Registry) updateAccess(caregiver string, f func([]string) []string) error {
	return r.db.Update(func(tx *bolt.Tx) error {
		p, err := getPrincipal(tx, caregiver)
		if err != nil {
			return err
		}
		defer p.Wipe()
		if p.Kind != KindCaregiver {
			return fmt.Errorf("%w: %q is a %s", ErrKind, caregiver, p.Kind)
		}
		p.Access = f(p.Access)
		slices.Sort(p.Access)
		return putPrincipal(tx, p)
	})
}

// List returns every principal sorted by name, without their secrets.
func (r *Registry) List() ([]Principal, error) {
	var out []Principal
	err := r.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPrincipals).ForEach(func(k, v []byte) error {
			var p Principal
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			p.Wipe()
			p.PSS = nil
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

func keyID(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

func putKey(tx *bolt.Tx, rec *KeyRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketKeys).Put(keyID(rec.ID), v)
}

// IssueKey makes a fresh key for an active node's session: a new key id
// (never reused: the counter is stored in the same transaction), material
// from crypto/rand, valid for lifetime. The node must be active.
func (r *Registry) IssueKey(node string, suite *aead.Suite, lifetime time.Duration) (*KeyRecord, error) {
	now := r.clock.Now().UTC()
	rec := &KeyRecord{Suite: suite.ID(), Material: make([]byte, suite.KeySize()), Created: now,
		NotAfter: now.Add(lifetime).Truncate(time.Second)}
	if _, err := rand.Read(rec.Material); err != nil {
		return nil, err
	}
	err := r.db.Update(func(tx *bolt.Tx) error {
		p, err := getPrincipal(tx, node)
		if err != nil {
			return err
		}
		defer p.Wipe()
		switch {
		case p.Kind != KindNode:
			return fmt.Errorf("%w: %q is a %s", ErrKind, node, p.Kind)
		case !p.Active():
			return fmt.Errorf("%w: %q", ErrRevoked, node)
		}
		id, err := counter(tx, metaNextKey, math.MaxUint32)
		if err != nil {
			return err
		}
		rec.ID, rec.Owner, rec.Sender, rec.Group = uint32(id), p.Name, p.Sender, p.Group
		return putKey(tx, rec)
	})
	if err != nil {
		rec.Wipe()
		return nil, err
	}
	return rec, nil
}

// Key returns the key with id (ErrNotFound if none or purged).
func (r *Registry) Key(id uint32) (*KeyRecord, error) {
	var rec *KeyRecord
	err := r.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKeys).Get(keyID(id))
		if v == nil {
			return fmt.Errorf("%w: key %d", ErrNotFound, id)
		}
		rec = new(KeyRecord)
		return json.Unmarshal(v, rec)
	})
	return rec, err
}

// Keys lists the issued keys still stored, without their material.
func (r *Registry) Keys() ([]KeyRecord, error) {
	var out []KeyRecord
	err := r.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
			var rec KeyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			rec.Wipe()
			rec.Material = nil
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

// PurgeKeys deletes every key whose NotAfter is before cutoff and returns
// how many. (bbolt reuses the freed pages; until then the bytes may remain
// in the file, which is why it is mode 0600.)
func (r *Registry) PurgeKeys(cutoff time.Time) (int, error) {
	n := 0
	err := r.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKeys)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var rec KeyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			rec.Wipe()
			if rec.NotAfter.Before(cutoff) {
				dead = append(dead, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, err
}
