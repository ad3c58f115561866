package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Authentication and replay protection of peer messages (docs/protocol.md
// "Handover"): MAC = the first 16 octets of HMAC-SHA256(key, AuthData),
// AuthData being the MsgType octet and the body up to the MAC; the key is
// the one shared with the peer named in the header. Time must be within
// ±ReplayWindow of the receiver's clock, and the nonce not seen before
// within that window.

func peerMAC(key, authData []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(authData)
	return h.Sum(nil)[:mqttsn.HOMACLen]
}

// peerMACOK compares in constant time.
func peerMACOK(key, authData, mac []byte) bool {
	return hmac.Equal(peerMAC(key, authData), mac)
}

// replayWindow remembers the nonces of one peer's messages for as long as
// their time keeps them inside the window.
type replayWindow struct {
	seen map[[mqttsn.HONonceLen]byte]int64 // nonce → message time (Unix ms)
}

type replayVerdict uint8

const (
	replayFresh replayVerdict = iota
	replayStale               // time outside the window
	replaySeen                // nonce seen within the window
)

// maxReplayEntries bounds one peer's nonce memory; a peer sending faster
// than this per window gets its oldest nonces forgotten early, which only
// matters if they are replayed at once, and those are still refused by XID
// and Seq checks.
const maxReplayEntries = 1 << 16

// check accepts a message sent at ms (Unix ms) with nonce once, if ms is
// within window of now, and remembers the nonce.
func (r *replayWindow) check(now time.Time, ms int64, nonce []byte, window time.Duration) replayVerdict {
	w := window.Milliseconds()
	n := now.UnixMilli()
	if ms < n-w || ms > n+w {
		return replayStale
	}
	var k [mqttsn.HONonceLen]byte
	copy(k[:], nonce)
	if r.seen == nil {
		r.seen = map[[mqttsn.HONonceLen]byte]int64{}
	}
	if _, ok := r.seen[k]; ok {
		return replaySeen
	}
	if len(r.seen) >= maxReplayEntries/2 {
		for x, t := range r.seen {
			if t < n-w || len(r.seen) >= maxReplayEntries {
				delete(r.seen, x)
			}
		}
	}
	r.seen[k] = ms
	return replayFresh
}
