package medium

import (
	"errors"
	"net"
	"sync"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// ZEPRadioConfig configures a node's radio that talks to a medium process.
type ZEPRadioConfig struct {
	Medium   *net.UDPAddr // the medium's ZEP address
	Local    *net.UDPAddr // local bind address; loopback :0 when nil
	Channel  uint8        // DefaultChannel when 0
	DeviceID uint16
	Clock    clock.Clock // for ZEP timestamps; clock.Real{} when nil
}

// ZEPRadio is a Radio whose frames travel as ZEP v2 datagrams over UDP to a
// medium served with ServeUDP (`lsmqtt medium`).
type ZEPRadio struct {
	cfg  ZEPRadioConfig
	conn *net.UDPConn

	mu     sync.Mutex
	recv   Receiver
	seq    uint32
	buf    []byte
	closed bool
	done   chan struct{}
}

// DialZEP opens a ZEP radio. It starts one goroutine that reads frames from
// the medium; Close stops it.
func DialZEP(cfg ZEPRadioConfig) (*ZEPRadio, error) {
	if cfg.Channel == 0 {
		cfg.Channel = DefaultChannel
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	local := cfg.Local
	if local == nil {
		ip := net.IPv4(127, 0, 0, 1)
		if cfg.Medium != nil && cfg.Medium.IP.To4() == nil && cfg.Medium.IP != nil {
			ip = net.IPv6loopback
		}
		local = &net.UDPAddr{IP: ip}
	}
	conn, err := net.ListenUDP("udp", local)
	if err != nil {
		return nil, err
	}
	r := &ZEPRadio{cfg: cfg, conn: conn, done: make(chan struct{})}
	go r.readLoop()
	return r, nil
}

// LocalAddr returns the radio's UDP address.
func (r *ZEPRadio) LocalAddr() net.Addr { return r.conn.LocalAddr() }

// SetReceiver implements Radio.
func (r *ZEPRadio) SetReceiver(f Receiver) {
	r.mu.Lock()
	r.recv = f
	r.mu.Unlock()
}

// Transmit implements Radio.
func (r *ZEPRadio) Transmit(psdu []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.seq++
	pkt := zep.Packet{
		Type: zep.TypeData, Channel: r.cfg.Channel, DeviceID: r.cfg.DeviceID, CRCMode: true,
		LQI: 255, NTP: zep.NTPTime(r.cfg.Clock.Now()), Seq: r.seq, Frame: psdu,
	}
	b, err := pkt.AppendBinary(r.buf[:0])
	if err != nil {
		return err
	}
	r.buf = b
	_, err = r.conn.WriteToUDP(b, r.cfg.Medium)
	return err
}

func (r *ZEPRadio) readLoop() {
	defer close(r.done)
	buf := make([]byte, 2048)
	for {
		n, _, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			continue
		}
		pkt, m, err := zep.Decode(buf[:n])
		if err != nil || m != n || pkt.Type != zep.TypeData {
			continue
		}
		r.mu.Lock()
		f := r.recv
		r.mu.Unlock()
		if f != nil {
			f(pkt.Frame, RxInfo{LQI: pkt.LQI, At: zep.TimeFromNTP(pkt.NTP)})
		}
	}
}

// Close implements Radio: it closes the socket and waits for the reader.
func (r *ZEPRadio) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	err := r.conn.Close()
	<-r.done
	return err
}

var _ Radio = (*ZEPRadio)(nil)
