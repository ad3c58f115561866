package mqttsn

// ReturnCode is the ReturnCode field (MQTT-SN v1.2 §5.3.10, Table 5). It
// implements error so a rejection can be returned as one; use Err to get nil
// for Accepted.
type ReturnCode uint8

// Return codes of Table 5; 0x04–0xFF are reserved.
const (
	Accepted               ReturnCode = 0x00
	RejectedCongestion     ReturnCode = 0x01
	RejectedInvalidTopicID ReturnCode = 0x02
	RejectedNotSupported   ReturnCode = 0x03
)

func (rc ReturnCode) Error() string {
	switch rc {
	case Accepted:
		return "accepted"
	case RejectedCongestion:
		return "rejected: congestion"
	case RejectedInvalidTopicID:
		return "rejected: invalid topic ID"
	case RejectedNotSupported:
		return "rejected: not supported"
	}
	return "reserved return code 0x" + hex8(uint8(rc))
}

// String is Error.
func (rc ReturnCode) String() string { return rc.Error() }

// Err returns nil for Accepted and rc otherwise.
func (rc ReturnCode) Err() error {
	if rc == Accepted {
		return nil
	}
	return rc
}

// Valid reports whether rc is one of Table 5's defined codes.
func (rc ReturnCode) Valid() bool { return rc <= RejectedNotSupported }
