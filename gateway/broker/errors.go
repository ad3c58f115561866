package broker

import "errors"

// Errors returned by the adapters besides ErrBusy. Callers branch on them with
// errors.Is.
var (
	// ErrUnknownClient: the client id is not attached.
	ErrUnknownClient = errors.New("broker: client not attached")
	// ErrInvalidTopic: a topic name or filter is malformed (MQTT v3.1.1 §4.7).
	ErrInvalidTopic = errors.New("broker: invalid topic")
	// ErrClosed: the adapter has been closed.
	ErrClosed = errors.New("broker: closed")
	// ErrRejected: the broker refused the request (a SUBACK or PUBACK failure
	// reason code, for example not authorized).
	ErrRejected = errors.New("broker: rejected")
)
