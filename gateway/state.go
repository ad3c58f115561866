package gateway

// clientState is a client's state as the gateway sees it. MQTT-SN v1.2 §6.14,
// Figure 4 names active, asleep, awake, disconnected and lost; connecting is
// ours: a CONNECT was received and the will flow or admission is under way.
type clientState uint8

const (
	stateConnecting clientState = iota
	stateActive
	stateAsleep
	stateAwake
	stateDisconnected
	stateLost
	numStates
)

var stateNames = [numStates]string{"connecting", "active", "asleep", "awake", "disconnected", "lost"}

func (s clientState) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "invalid"
}

// live reports whether a client in this state holds a client slot: it is
// connected, or asleep with the gateway buffering for it.
func (s clientState) live() bool {
	return s == stateConnecting || s == stateActive || s == stateAsleep || s == stateAwake
}
