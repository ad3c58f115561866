package medium

import "time"

// Receiver is called with each frame a radio receives: the PSDU (MAC header,
// payload, FCS) and reception details. The PSDU is shared and read-only and
// valid only during the call. Calls for one radio are serialised.
type Receiver func(psdu []byte, info RxInfo)

// RxInfo describes one reception.
type RxInfo struct {
	LQI uint8     // link quality indication, 255 for a perfect link
	At  time.Time // when the frame arrived
}

// Radio is a node's transceiver: Port for in-process media, ZEPRadio over UDP.
type Radio interface {
	// Transmit sends one PSDU (with FCS). It never blocks on the channel
	// and never calls the receiver of any radio synchronously.
	Transmit(psdu []byte) error
	// SetReceiver installs the function that receives frames; frames that
	// arrive before it is set are dropped.
	SetReceiver(Receiver)
	// Close detaches the radio. It is idempotent.
	Close() error
}
