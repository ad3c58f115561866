package hospital

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// Frame classes of the mesh's air counter: what each frame on the radio
// medium carried.
const (
	frameData   = iota // MQTT-SN PUBLISH
	frameMQTTSN        // any other MQTT-SN message
	frameTS            // Trusted System messages (MQTT-SN extension types 0xA0-0xA5)
	frameDIS           // RPL DODAG Information Solicitation (RFC 6550 §6.2)
	frameDIO           // RPL DODAG Information Object (§6.3)
	frameDAO           // RPL Destination Advertisement Object (§6.4)
	frameDAOACK        // RPL DAO-ACK (§6.5)
	frameOther         // other ICMPv6 (errors), other UDP, undecodable frames
	numFrameClasses
)

// frameOfClass is the frame class of an MQTT-SN message's class (airconn.go).
var frameOfClass = [numClasses]uint8{classData: frameData, classMQTTSN: frameMQTTSN, classTS: frameTS}

var frameClassNames = [numFrameClasses]string{"data", "mqttsn", "ts", "dis", "dio", "dao", "dao-ack", "other"}

// airFrames is the mesh's air counter: a medium.Capture that decodes every
// frame the medium carries (IEEE 802.15.4, 6LoWPAN IPHC and fragments,
// IPv6 extension headers, ICMPv6 RPL or UDP, the MQTT-SN header) and adds
// its PSDU octets to its class. A link-layer acknowledgement counts for the
// class of the latest frame with its sequence number that asked for one
// (IEEE 802.15.4-2006 §7.5.6.4); a FRAGN for the class of the FRAG1 with
// its source and datagram tag (RFC 4944 §5.3). It then passes the frame on
// to Next (a pcap writer), if set.
//
// The medium calls WriteFrame with its lock held, one frame at a time.
type airFrames struct {
	Next     medium.Capture
	activity *atomic.Uint64

	mu     sync.Mutex
	frozen bool // the scenario's end: frames of the drain after it are not counted
	octets [numFrameClasses]uint64
	frames [numFrameClasses]uint64
	acks   uint64 // of the frames: link-layer acknowledgements
	byDSN  [256]uint8
	byTag  map[fragKey]uint8
	pkt    []byte
}

type fragKey struct {
	src ieee802154.Address
	tag uint16
}

// dummyContexts decompresses addresses compressed against any area's
// prefix (context 0): the counter needs the next headers and ports, not
// the addresses.
var dummyContexts = &lowpan.ContextTable{netip.MustParsePrefix("fd00::/64")}

// WriteFrame implements medium.Capture.
func (a *airFrames) WriteFrame(at time.Time, psdu []byte) error {
	if a.activity != nil {
		a.activity.Add(1)
	}
	a.mu.Lock()
	c := a.classify(psdu)
	if !a.frozen {
		a.octets[c] += uint64(len(psdu))
		a.frames[c]++
	}
	a.mu.Unlock()
	if a.Next != nil {
		return a.Next.WriteFrame(at, psdu)
	}
	return nil
}

func (a *airFrames) classify(psdu []byte) uint8 {
	fr, _, err := ieee802154.Decode(psdu)
	if err != nil {
		return frameOther
	}
	switch fr.Type {
	case ieee802154.TypeAck:
		if !a.frozen {
			a.acks++
		}
		return a.byDSN[fr.Seq]
	case ieee802154.TypeData:
	default:
		return frameOther
	}
	c := a.payloadClass(fr)
	if fr.AckRequest {
		a.byDSN[fr.Seq] = c
	}
	return c
}

func (a *airFrames) payloadClass(fr ieee802154.Frame) uint8 {
	p := fr.Payload
	switch lowpan.Classify(p) {
	case lowpan.KindFragN:
		h, _, err := lowpan.DecodeFragHeader(p)
		if err != nil {
			return frameOther
		}
		if c, ok := a.byTag[fragKey{fr.Src, h.Tag}]; ok {
			return c
		}
		return frameOther
	case lowpan.KindFrag1:
		h, n, err := lowpan.DecodeFragHeader(p)
		if err != nil {
			return frameOther
		}
		c := a.packetClass(p[n:], fr)
		if a.byTag == nil {
			a.byTag = map[fragKey]uint8{}
		}
		if len(a.byTag) > 4096 {
			clear(a.byTag) // tags of datagrams long gone
		}
		a.byTag[fragKey{fr.Src, h.Tag}] = c
		return c
	case lowpan.KindIPHC, lowpan.KindIPv6:
		return a.packetClass(p, fr)
	}
	return frameOther
}

// packetClass classifies a (possibly partial: a FRAG1's) 6LoWPAN packet.
func (a *airFrames) packetClass(p []byte, fr ieee802154.Frame) uint8 {
	pkt, err := lowpan.Decompress(a.pkt[:0], p, fr.Src, fr.Dst, dummyContexts)
	a.pkt = pkt[:0]
	if err != nil {
		return frameOther
	}
	proto, off, err := ipv6.UpperLayer(pkt)
	if err != nil {
		return frameOther
	}
	body := pkt[off:]
	switch proto {
	case ipv6.ProtoICMPv6:
		if len(body) < 2 || body[0] != rplmsg.TypeRPL {
			return frameOther
		}
		switch body[1] {
		case rplmsg.CodeDIS:
			return frameDIS
		case rplmsg.CodeDIO:
			return frameDIO
		case rplmsg.CodeDAO:
			return frameDAO
		case rplmsg.CodeDAOACK:
			return frameDAOACK
		}
	case ipv6.ProtoUDP:
		if len(body) < ipv6.UDPHeaderLen {
			return frameOther
		}
		if c, ok := mqttsnClass(body[ipv6.UDPHeaderLen:]); ok {
			return frameOfClass[c]
		}
		return frameOther
	}
	return frameOther
}

// counts returns the octets and frames per class, and the acknowledgements.
func (a *airFrames) counts() (octets, frames [numFrameClasses]uint64, acks uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.octets, a.frames, a.acks
}

// freeze stops the counting at the scenario's end.
func (a *airFrames) freeze() {
	a.mu.Lock()
	a.frozen = true
	a.mu.Unlock()
}
