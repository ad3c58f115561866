package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var sessionsBucket = []byte("sessions")

// BoltStore is a Store in a bbolt file: one JSON record per client id in the
// "sessions" bucket. Every Write is one transaction, fsynced before it
// returns, so a kill -9 loses nothing written. The file is created 0600 (it
// holds the clients' queued messages) and locked while open.
type BoltStore struct {
	db *bolt.DB
}

var _ Store = (*BoltStore)(nil)

// OpenBoltStore opens (creating if needed) the session store at path.
func OpenBoltStore(path string) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("gateway: session store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(sessionsBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("gateway: session store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Load implements Store. A record that does not decode is skipped and
// reported in the returned error together with the records that did.
func (b *BoltStore) Load() ([]SessionRecord, error) {
	var recs []SessionRecord
	var bad error
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(sessionsBucket).ForEach(func(k, v []byte) error {
			var r SessionRecord
			if err := json.Unmarshal(v, &r); err != nil || r.ClientID != string(k) {
				bad = errors.Join(bad, fmt.Errorf("record %q unreadable: %v", k, err))
				return nil
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return recs, fmt.Errorf("gateway: session store: %w", bad)
	}
	return recs, nil
}

// Write implements Store.
func (b *BoltStore) Write(put []SessionRecord, del []string) error {
	return b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(sessionsBucket)
		for _, id := range del {
			if err := bk.Delete([]byte(id)); err != nil {
				return err
			}
		}
		for i := range put {
			v, err := json.Marshal(&put[i])
			if err != nil {
				return err
			}
			if err := bk.Put([]byte(put[i].ClientID), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the file.
func (b *BoltStore) Close() error { return b.db.Close() }
