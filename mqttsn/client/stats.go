package client

import "sync/atomic"

// Stats are the client's traffic counters, for energy accounting and tests.
// Bytes count MQTT-SN octets (UDP payloads), not lower-layer headers.
type Stats struct {
	BytesSent         uint64
	BytesReceived     uint64
	DatagramsSent     uint64
	DatagramsReceived uint64
	Retransmissions   uint64 // datagrams re-sent by Tretry expiry (§6.13)
	Timeouts          uint64 // requests abandoned after Nretry retransmissions
	Malformed         uint64 // received datagrams that failed to decode
	Duplicates        uint64 // incoming PUBLISH retransmissions not delivered twice
	Ignored           uint64 // datagrams from strangers, late answers, messages that make no sense now
}

type counters struct {
	bytesSent, bytesReceived, datagramsSent, datagramsReceived atomic.Uint64
	retransmissions, timeouts, malformed, duplicates, ignored  atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		BytesSent: s.bytesSent.Load(), BytesReceived: s.bytesReceived.Load(),
		DatagramsSent: s.datagramsSent.Load(), DatagramsReceived: s.datagramsReceived.Load(),
		Retransmissions: s.retransmissions.Load(), Timeouts: s.timeouts.Load(),
		Malformed: s.malformed.Load(), Duplicates: s.duplicates.Load(), Ignored: s.ignored.Load(),
	}
}
