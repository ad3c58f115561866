package medium

import (
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/pcap"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// CaptureFormat selects how PcapCapture records frames.
type CaptureFormat uint8

const (
	// CaptureWPAN records each PSDU as LINKTYPE_IEEE802_15_4_WITHFCS (195).
	CaptureWPAN CaptureFormat = iota
	// CaptureZEP records each frame as the ZEP v2 datagram it travels in,
	// inside synthetic IPv4/UDP headers to port 17754 (LINKTYPE_IPV4, 228),
	// so Wireshark shows the ZEP layer too.
	CaptureZEP
)

// ParseCaptureFormat parses "wpan" or "zep".
func ParseCaptureFormat(s string) (CaptureFormat, error) {
	switch s {
	case "", "wpan":
		return CaptureWPAN, nil
	case "zep":
		return CaptureZEP, nil
	}
	return 0, fmt.Errorf("medium: capture format %q: want wpan or zep", s)
}

// PcapCapture writes the frames a medium carries to a pcap file. It
// implements Capture.
type PcapCapture struct {
	w       *pcap.Writer
	format  CaptureFormat
	channel uint8

	mu  sync.Mutex
	seq uint32
	buf []byte
	ip  []byte
}

// NewPcapCapture writes a pcap file header to w for the chosen format;
// channel goes into ZEP headers (DefaultChannel when 0).
func NewPcapCapture(w io.Writer, format CaptureFormat, channel uint8) (*PcapCapture, error) {
	lt := pcap.LinkTypeIEEE802154WithFCS
	if format == CaptureZEP {
		lt = pcap.LinkTypeIPv4
	}
	if channel == 0 {
		channel = DefaultChannel
	}
	pw, err := pcap.NewWriter(w, lt, pcap.WriterOptions{Nanosecond: true})
	if err != nil {
		return nil, err
	}
	return &PcapCapture{w: pw, format: format, channel: channel}, nil
}

var (
	capSrc = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), zep.DefaultPort)
	capDst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 2}), zep.DefaultPort)
)

// WriteFrame implements Capture.
func (c *PcapCapture) WriteFrame(at time.Time, psdu []byte) error {
	if c.format == CaptureWPAN {
		return c.w.WritePacket(at, psdu)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	p := zep.Packet{Type: zep.TypeData, Channel: c.channel, CRCMode: true, LQI: 255,
		NTP: zep.NTPTime(at), Seq: c.seq, Frame: psdu}
	var err error
	if c.buf, err = p.AppendBinary(c.buf[:0]); err != nil {
		return err
	}
	if c.ip, err = pcap.AppendIPv4UDP(c.ip[:0], capSrc, capDst, c.buf); err != nil {
		return err
	}
	return c.w.WritePacket(at, c.ip)
}
