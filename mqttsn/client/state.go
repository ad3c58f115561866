package client

// State is the client's connection state as in MQTT-SN v1.2 §6.14, Fig. 4.
type State int32

const (
	StateDisconnected State = iota // no connection (initial, after DISCONNECT)
	StateConnecting                // CONNECT sent, CONNACK not yet received
	StateActive                    // connected
	StateAsleep                    // DISCONNECT with duration acknowledged
	StateAwake                     // PINGREQ with client id sent, collecting buffered messages
	StateLost                      // the gateway stopped answering, or disconnected us
)

func (s State) String() string {
	switch s {
	case StateDisconnected:
		return "disconnected"
	case StateConnecting:
		return "connecting"
	case StateActive:
		return "active"
	case StateAsleep:
		return "asleep"
	case StateAwake:
		return "awake"
	case StateLost:
		return "lost"
	}
	return "invalid"
}
