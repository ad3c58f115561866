package gateway

// dropReason says why a datagram or a message was dropped or refused. Each is
// a label value of lsmqtt_gateway_drops_total.
type dropReason uint8

const (
	dropMalformed           dropReason = iota // the codec rejected the datagram
	dropOversize                              // datagram longer than MaxDatagram
	dropUnknownType                           // reserved message type
	dropUnknownClient                         // no session for the sender (answered with DISCONNECT)
	dropIllegalState                          // message not allowed in the session's state
	dropNotForGateway                         // a message only a gateway or forwarder sends
	dropUnhandledExtension                    // extension type with no handler
	dropNestedEncapsulation                   // Encapsulated message inside another (§5.5)
	dropInvalidTopic                          // unknown topic id (answered with PUBACK where the spec says so)
	dropQoSMinus1Denied                       // QoS -1 publish while DenyQoSMinus1
	dropCongestion                            // refused with "rejected: congestion"
	dropQueueFull                             // per-client buffer full (MaxBuffered)
	dropTooLarge                              // outgoing message longer than MaxDatagram (§6.10)
	dropRegisterRejected                      // the client refused our REGISTER (§6.10)
	dropPublishRejected                       // the client refused our PUBLISH with a PUBACK return code
	dropRetryExhausted                        // Nretry retransmissions without acknowledgement
	dropBrokerError                           // the broker refused or failed a publish
	dropNoSession                             // the broker delivered to a client we do not know
	dropAdmission                             // the Authenticator refused a client
	dropSendError                             // the PacketConn refused a datagram
	dropUnknownAck                            // acknowledgement of nothing outstanding
	dropConnectRate                           // CONNECT over the per-source rate (ConnectRate)
	dropHalfOpen                              // CONNECT beyond MaxHalfOpen (refused with congestion)
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"malformed", "oversize", "unknown_type", "unknown_client", "illegal_state",
	"not_for_gateway", "unhandled_extension", "nested_encapsulation", "invalid_topic",
	"qos_minus1_denied", "congestion", "queue_full", "too_large", "register_rejected",
	"publish_rejected", "retry_exhausted", "broker_error", "no_session", "admission",
	"send_error", "unknown_ack", "connect_rate", "half_open",
}

func (r dropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "invalid"
}
