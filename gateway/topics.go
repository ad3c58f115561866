package gateway

// topicRegistry maps one client's normal topic ids to topic names and back.
// MQTT-SN v1.2 §7.3: the mapping is kept per client, never shared, so a wrong
// topic id from one client cannot hit another client's topic.
//
// A client usually registers a handful of topics, so the registry is a small
// slice searched linearly; an index map is added only when it grows.
type topicRegistry struct {
	entries []topicEntry
	byName  map[string]int // index into entries; nil while small
	nextID  uint16
}

// topicEntry is one registered topic.
type topicEntry struct {
	name string
	id   uint16
	// known: the client knows this id (it registered it, got it in a SUBACK,
	// or acknowledged our REGISTER). The gateway sends PUBLISH with a normal
	// topic id only when known; otherwise it REGISTERs first (§6.10).
	known bool
	// rejected: the client refused our REGISTER for this name, which counts as
	// an unsubscribe from it (§6.10); deliveries on it are dropped.
	rejected bool
}

const registryIndexAt = 16

// lookupID returns the entry for id, or nil.
func (r *topicRegistry) lookupID(id uint16) *topicEntry {
	if id == 0 || id == 0xFFFF {
		return nil // MQTT-SN v1.2 §5.3.11: reserved
	}
	for i := range r.entries {
		if r.entries[i].id == id {
			return &r.entries[i]
		}
	}
	return nil
}

// lookupName returns the entry for name, or nil.
func (r *topicRegistry) lookupName(name string) *topicEntry {
	if r.byName != nil {
		if i, ok := r.byName[name]; ok {
			return &r.entries[i]
		}
		return nil
	}
	for i := range r.entries {
		if r.entries[i].name == name {
			return &r.entries[i]
		}
	}
	return nil
}

// register returns the entry for name, assigning a new id when name is new.
// It returns nil when the registry already holds max topics or every id is
// taken.
func (r *topicRegistry) register(name string, max int) *topicEntry {
	if e := r.lookupName(name); e != nil {
		return e
	}
	if len(r.entries) >= max || len(r.entries) >= 0xFFFE {
		return nil
	}
	id := r.freeID()
	r.entries = append(r.entries, topicEntry{name: name, id: id})
	if r.byName != nil {
		r.byName[name] = len(r.entries) - 1
	} else if len(r.entries) > registryIndexAt {
		r.byName = make(map[string]int, 2*len(r.entries))
		for i := range r.entries {
			r.byName[r.entries[i].name] = i
		}
	}
	return &r.entries[len(r.entries)-1]
}

// freeID returns an id in 1..0xFFFE not in use. Ids are handed out in order
// and wrap, skipping those still registered.
func (r *topicRegistry) freeID() uint16 {
	for {
		r.nextID++
		if r.nextID == 0 || r.nextID == 0xFFFF {
			r.nextID = 1
		}
		if r.lookupID(r.nextID) == nil {
			return r.nextID
		}
	}
}

// forgetKnown marks every id unknown to the client: after a reconnect without
// CleanSession the client may have lost its table, so the gateway registers
// again before it publishes (MQTT-SN v1.2 §6.10). The client may keep using
// ids it still knows; the mapping itself stays.
func (r *topicRegistry) forgetKnown() {
	for i := range r.entries {
		r.entries[i].known = false
	}
}

// reset empties the registry (CleanSession).
func (r *topicRegistry) reset() { *r = topicRegistry{} }

// len is the number of registered topics.
func (r *topicRegistry) len() int { return len(r.entries) }
