package hospital

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/mote"
)

// Traffic classes of the control-overhead table.
const (
	classData   = iota // PUBLISH (the payload and its MQTT-SN header)
	classMQTTSN        // every other MQTT-SN message
	classTS            // Trusted System messages (0xA0-0xA5)
	numClasses
)

// airConn is a mote's UDP socket seen from the radio: it drops datagrams
// with the scenario's loss (both ways, drawn from the patient's seed) and
// counts the octets each class of message would take on the air (the
// estimated 802.15.4 frames of mote.LinkModel: headers, fragments and
// link-layer acknowledgements).
type airConn struct {
	net.PacketConn
	model mote.LinkModel
	loss  float64

	activity *atomic.Uint64 // bumped per datagram, for the virtual-clock driver

	mu     sync.Mutex
	r      *rand.Rand
	air    [numClasses]uint64
	lost   uint64
	frames []int
}

func newAirConn(pc net.PacketConn, loss float64, seed uint64) *airConn {
	return &airConn{PacketConn: pc, model: mote.DefaultLinkModel(), loss: loss, r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// classOf is the class of an MQTT-SN datagram (one that does not parse is
// classMQTTSN).
func classOf(b []byte) int {
	if c, ok := mqttsnClass(b); ok {
		return c
	}
	return classMQTTSN
}

// mqttsnClass is the class of an MQTT-SN message, for both air counters
// (this one and the mesh's, airframes.go); ok is false when b does not
// parse as one.
func mqttsnClass(b []byte) (class int, ok bool) {
	h, err := mqttsn.ReadHeader(b)
	switch {
	case err != nil:
		return 0, false
	case h.Type == mqttsn.TypePublish:
		return classData, true
	case h.Type >= mqttsn.TypeTSKeyRequest && h.Type <= mqttsn.TypeTSKeyRequest+5:
		return classTS, true
	}
	return classMQTTSN, true
}

// count charges the frames of one datagram and decides whether it is lost.
func (c *airConn) count(b []byte) (drop bool) {
	if c.activity != nil {
		c.activity.Add(1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = c.model.Frames(c.frames[:0], len(b))
	n := 0
	for _, f := range c.frames {
		n += f + 5 // the frame and its acknowledgement
	}
	c.air[classOf(b)] += uint64(n)
	if c.loss > 0 && c.r.Float64() < c.loss {
		c.lost++
		return true
	}
	return false
}

func (c *airConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.count(b) {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, a)
}

func (c *airConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.count(b[:n]) {
			return n, a, err
		}
	}
}

func (c *airConn) totals() (air [numClasses]uint64, lost uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.air, c.lost
}
