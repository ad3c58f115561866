package dodag

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// RPL control message codes (RFC 6550 §6).
const (
	CodeDIS    uint8 = 0x00
	CodeDIO    uint8 = 0x01
	CodeDAO    uint8 = 0x02
	CodeDAOACK uint8 = 0x03
)

// RPL option types (RFC 6550 §6.7).
const (
	optPad1       = 0
	optPadN       = 1
	optDODAGConf  = 4
	optTarget     = 5
	optTransit    = 6
	optPrefixInfo = 8
)

// Mode of operation (RFC 6550 §6.3.1).
const (
	MOPNoDownward = 0
	MOPNonStoring = 1
)

var errBody = errors.New("dodag: malformed RPL message")

// dio is the DIO base object with the options this package uses.
type dio struct {
	instance uint8
	version  uint8
	rank     uint16
	grounded bool
	mop      uint8
	prf      uint8
	dtsn     uint8
	dodagID  netip.Addr
	conf     *dodagConf
	pio      *prefixInfo
}

// dodagConf is the DODAG Configuration option (RFC 6550 §6.7.6).
type dodagConf struct {
	pcs             uint8
	doublings       uint8
	intMin          uint8
	redundancy      uint8
	maxRankInc      uint16
	minHopRankInc   uint16
	ocp             uint16
	defaultLifetime uint8
	lifetimeUnit    uint16
}

// prefixInfo is the Prefix Information option (RFC 6550 §6.7.10).
type prefixInfo struct {
	prefix            netip.Prefix
	onLink, auto, rtr bool
	valid, preferred  uint32
}

// dao is a DAO (RFC 6550 §6.4) with one Target and one Transit option, as
// a non-storing node sends it.
type dao struct {
	instance uint8
	ack      bool // K
	seq      uint8
	dodagID  netip.Addr // D flag when valid
	targets  []netip.Prefix
	transits []transit
}

// transit is the Transit Information option (RFC 6550 §6.7.8).
type transit struct {
	external     bool
	pathControl  uint8
	pathSeq      uint8
	pathLifetime uint8
	parent       netip.Addr
}

// daoAck is a DAO-ACK (RFC 6550 §6.5).
type daoAck struct {
	instance uint8
	seq      uint8
	status   uint8
	dodagID  netip.Addr
}

func appendAddr(b []byte, a netip.Addr) []byte {
	x := a.As16()
	return append(b, x[:]...)
}

func appendDIS(b []byte) []byte { return append(b, 0, 0) }

func appendDIO(b []byte, d *dio) []byte {
	g := byte(0)
	if d.grounded {
		g = 0x80
	}
	b = append(b, d.instance, d.version, byte(d.rank>>8), byte(d.rank), g|d.mop<<3|d.prf&7, d.dtsn, 0, 0)
	b = appendAddr(b, d.dodagID)
	if c := d.conf; c != nil {
		b = append(b, optDODAGConf, 14, c.pcs&7, c.doublings, c.intMin, c.redundancy)
		b = binary.BigEndian.AppendUint16(b, c.maxRankInc)
		b = binary.BigEndian.AppendUint16(b, c.minHopRankInc)
		b = binary.BigEndian.AppendUint16(b, c.ocp)
		b = append(b, 0, c.defaultLifetime)
		b = binary.BigEndian.AppendUint16(b, c.lifetimeUnit)
	}
	if p := d.pio; p != nil {
		var fl byte
		if p.onLink {
			fl |= 0x80
		}
		if p.auto {
			fl |= 0x40
		}
		if p.rtr {
			fl |= 0x20
		}
		b = append(b, optPrefixInfo, 30, byte(p.prefix.Bits()), fl)
		b = binary.BigEndian.AppendUint32(b, p.valid)
		b = binary.BigEndian.AppendUint32(b, p.preferred)
		b = append(b, 0, 0, 0, 0)
		b = appendAddr(b, p.prefix.Masked().Addr())
	}
	return b
}

func appendDAO(b []byte, d *dao) []byte {
	fl := byte(0)
	if d.ack {
		fl |= 0x80
	}
	if d.dodagID.IsValid() {
		fl |= 0x40
	}
	b = append(b, d.instance, fl, 0, d.seq)
	if d.dodagID.IsValid() {
		b = appendAddr(b, d.dodagID)
	}
	for _, t := range d.targets {
		n := (t.Bits() + 7) / 8
		a := t.Addr().As16()
		b = append(b, optTarget, byte(2+n), 0, byte(t.Bits()))
		b = append(b, a[:n]...)
	}
	for _, t := range d.transits {
		e := byte(0)
		if t.external {
			e = 0x80
		}
		l := byte(4)
		if t.parent.IsValid() {
			l = 20
		}
		b = append(b, optTransit, l, e, t.pathControl, t.pathSeq, t.pathLifetime)
		if t.parent.IsValid() {
			b = appendAddr(b, t.parent)
		}
	}
	return b
}

func appendDAOAck(b []byte, a *daoAck) []byte {
	fl := byte(0)
	if a.dodagID.IsValid() {
		fl = 0x80
	}
	b = append(b, a.instance, fl, a.seq, a.status)
	if a.dodagID.IsValid() {
		b = appendAddr(b, a.dodagID)
	}
	return b
}

// options walks RPL options, calling f with each option's type and body.
func options(b []byte, f func(typ uint8, body []byte) error) error {
	for len(b) > 0 {
		if b[0] == optPad1 {
			b = b[1:]
			continue
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return errBody
		}
		if err := f(b[0], b[2:2+int(b[1])]); err != nil {
			return err
		}
		b = b[2+int(b[1]):]
	}
	return nil
}

func parseDIO(b []byte) (*dio, error) {
	if len(b) < 24 {
		return nil, errBody
	}
	d := &dio{
		instance: b[0], version: b[1], rank: binary.BigEndian.Uint16(b[2:]),
		grounded: b[4]&0x80 != 0, mop: b[4] >> 3 & 7, prf: b[4] & 7, dtsn: b[5],
		dodagID: netip.AddrFrom16([16]byte(b[8:24])),
	}
	err := options(b[24:], func(typ uint8, o []byte) error {
		switch typ {
		case optDODAGConf:
			if len(o) != 14 {
				return errBody
			}
			d.conf = &dodagConf{
				pcs: o[0] & 7, doublings: o[1], intMin: o[2], redundancy: o[3],
				maxRankInc: binary.BigEndian.Uint16(o[4:]), minHopRankInc: binary.BigEndian.Uint16(o[6:]),
				ocp: binary.BigEndian.Uint16(o[8:]), defaultLifetime: o[11], lifetimeUnit: binary.BigEndian.Uint16(o[12:]),
			}
		case optPrefixInfo:
			if len(o) != 30 || o[0] > 128 {
				return errBody
			}
			p, err := netip.AddrFrom16([16]byte(o[14:30])).Prefix(int(o[0]))
			if err != nil {
				return errBody
			}
			d.pio = &prefixInfo{
				prefix: p, onLink: o[1]&0x80 != 0, auto: o[1]&0x40 != 0, rtr: o[1]&0x20 != 0,
				valid: binary.BigEndian.Uint32(o[2:]), preferred: binary.BigEndian.Uint32(o[6:]),
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func parseDAO(b []byte) (*dao, error) {
	if len(b) < 4 {
		return nil, errBody
	}
	d := &dao{instance: b[0], ack: b[1]&0x80 != 0, seq: b[3]}
	off := 4
	if b[1]&0x40 != 0 {
		if len(b) < 20 {
			return nil, errBody
		}
		d.dodagID = netip.AddrFrom16([16]byte(b[4:20]))
		off = 20
	}
	err := options(b[off:], func(typ uint8, o []byte) error {
		switch typ {
		case optTarget:
			if len(o) < 2 || o[1] > 128 || len(o) < 2+(int(o[1])+7)/8 {
				return errBody
			}
			var a [16]byte
			copy(a[:], o[2:2+(int(o[1])+7)/8])
			p, _ := netip.AddrFrom16(a).Prefix(int(o[1]))
			d.targets = append(d.targets, p)
		case optTransit:
			if len(o) != 4 && len(o) != 20 {
				return errBody
			}
			t := transit{external: o[0]&0x80 != 0, pathControl: o[1], pathSeq: o[2], pathLifetime: o[3]}
			if len(o) == 20 {
				t.parent = netip.AddrFrom16([16]byte(o[4:20]))
			}
			d.transits = append(d.transits, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func parseDAOAck(b []byte) (*daoAck, error) {
	if len(b) < 4 {
		return nil, errBody
	}
	a := &daoAck{instance: b[0], seq: b[2], status: b[3]}
	if b[1]&0x80 != 0 {
		if len(b) < 20 {
			return nil, errBody
		}
		a.dodagID = netip.AddrFrom16([16]byte(b[4:20]))
	}
	return a, nil
}
