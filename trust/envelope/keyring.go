package envelope

import (
	"sync"
	"time"
)

// Keyring finds keys by id for a Receiver.
type Keyring interface {
	// Key returns the key with id, or nil when it is not known.
	Key(id uint32) *Key
}

// MemKeyring is an in-memory Keyring. It is safe for concurrent use.
type MemKeyring struct {
	mu   sync.RWMutex
	keys map[uint32]*Key
}

// NewMemKeyring returns an empty keyring.
func NewMemKeyring() *MemKeyring { return &MemKeyring{keys: make(map[uint32]*Key)} }

// Key implements Keyring.
func (r *MemKeyring) Key(id uint32) *Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[id]
}

// Add stores k, replacing (and wiping) any key with the same id.
func (r *MemKeyring) Add(k *Key) {
	r.mu.Lock()
	old := r.keys[k.ID]
	r.keys[k.ID] = k
	r.mu.Unlock()
	if old != nil && old != k {
		old.Wipe()
	}
}

// Remove drops and wipes the key with id.
func (r *MemKeyring) Remove(id uint32) {
	r.mu.Lock()
	k := r.keys[id]
	delete(r.keys, id)
	r.mu.Unlock()
	if k != nil {
		k.Wipe()
	}
}

// PruneExpired drops and wipes every key that expired more than grace
// before now, and returns their ids.
func (r *MemKeyring) PruneExpired(now time.Time, grace time.Duration) []uint32 {
	var gone []*Key
	r.mu.Lock()
	for id, k := range r.keys {
		if now.After(k.NotAfter.Add(grace)) {
			gone = append(gone, k)
			delete(r.keys, id)
		}
	}
	r.mu.Unlock()
	ids := make([]uint32, len(gone))
	for i, k := range gone {
		k.Wipe()
		ids[i] = k.ID
	}
	return ids
}

// WipeAll drops and wipes every key: call it when the session ends.
func (r *MemKeyring) WipeAll() {
	r.mu.Lock()
	keys := r.keys
	r.keys = make(map[uint32]*Key)
	r.mu.Unlock()
	for _, k := range keys {
		k.Wipe()
	}
}

// Len returns the number of keys held.
func (r *MemKeyring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.keys)
}
