package lowpan

import (
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// Address compression modes, RFC 6282 §3.1.1 (SAM/DAM bits).
const (
	am128   = 0 // full address inline (or :: / context multicast with SAC/DAC)
	am64    = 1 // 64 bits inline
	am16    = 2 // 16 bits inline
	amElide = 3 // fully elided (from link layer) / 8-bit multicast
)

var linkLocalPrefix = [8]byte{0xfe, 0x80}

func isLinkLocal64(a *[16]byte) bool { return [8]byte(a[:8]) == linkLocalPrefix }

// compressUnicast chooses SAM/DAM for a unicast address (and the unspecified
// source address) and appends its inline bits to b. It returns the mode,
// whether context-based compression (SAC/DAC) is used, and the context id.
func compressUnicast(b []byte, addr netip.Addr, l2 ieee802154.Address, ctx *ContextTable, isSrc bool) (out []byte, mode uint8, stateful bool, cid uint8) {
	a := addr.As16()
	if isSrc && addr.IsUnspecified() {
		return b, am128, true, 0 // SAC=1 SAM=00: the unspecified address
	}
	l2iid, hasL2 := IID(l2)
	if isLinkLocal64(&a) {
		switch {
		case hasL2 && [8]byte(a[8:]) == l2iid:
			return b, amElide, false, 0
		case isShortIID(&a):
			return append(b, a[14], a[15]), am16, false, 0
		}
		return append(b, a[8:]...), am64, false, 0
	}
	if id, p, ok := ctx.find(addr); ok {
		switch {
		case hasL2 && withContext(p, l2iid) == addr:
			return b, amElide, true, id
		case withContext(p, shortIID(a[14], a[15])) == addr:
			return append(b, a[14], a[15]), am16, true, id
		case withContext(p, [8]byte(a[8:])) == addr:
			return append(b, a[8:]...), am64, true, id
		}
	}
	return append(b, a[:]...), am128, false, 0
}

// compressMulticast chooses DAM for a multicast destination (M=1, DAC=0,
// RFC 6282 §3.1.1) and appends its inline bits.
func compressMulticast(b []byte, addr netip.Addr) ([]byte, uint8) {
	a := addr.As16()
	zero := func(from, to int) bool {
		for _, v := range a[from:to] {
			if v != 0 {
				return false
			}
		}
		return true
	}
	switch {
	case a[1] == 0x02 && zero(2, 15): // ff02::00XX
		return append(b, a[15]), amElide
	case zero(2, 13): // ffXX::00XX:XXXX
		return append(b, a[1], a[13], a[14], a[15]), am16
	case zero(2, 11): // ffXX::00XX:XXXX:XXXX
		return append(b, a[1], a[11], a[12], a[13], a[14], a[15]), am64
	}
	return append(b, a[:]...), am128
}

// take returns the next n octets of in at *off, advancing it.
func take(in []byte, off *int, n int, field string) ([]byte, error) {
	if len(in)-*off < n {
		return nil, perr(field, ErrTruncated)
	}
	v := in[*off : *off+n]
	*off += n
	return v, nil
}

// decompressUnicast rebuilds a unicast (or unspecified) address.
func decompressUnicast(in []byte, off *int, mode uint8, stateful bool, cid uint8, l2 ieee802154.Address, ctx *ContextTable, field string) (netip.Addr, error) {
	var p netip.Prefix
	if stateful {
		if mode == am128 {
			if field == "dst address" {
				return netip.Addr{}, perr(field, ErrReserved) // DAC=1 DAM=00
			}
			return netip.IPv6Unspecified(), nil
		}
		var ok bool
		if p, ok = ctx.Lookup(cid); !ok {
			return netip.Addr{}, perr(field, ErrContext)
		}
	} else {
		p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfe, 0x80}), 64)
	}
	var iid [8]byte
	switch mode {
	case am128:
		v, err := take(in, off, 16, field)
		if err != nil {
			return netip.Addr{}, err
		}
		return netip.AddrFrom16([16]byte(v)), nil
	case am64:
		v, err := take(in, off, 8, field)
		if err != nil {
			return netip.Addr{}, err
		}
		iid = [8]byte(v)
	case am16:
		v, err := take(in, off, 2, field)
		if err != nil {
			return netip.Addr{}, err
		}
		iid = shortIID(v[0], v[1])
	default:
		var ok bool
		if iid, ok = IID(l2); !ok {
			return netip.Addr{}, perr(field, ErrNoLinkAddr)
		}
	}
	return withContext(p, iid), nil
}

// decompressMulticast rebuilds a multicast destination (M=1).
func decompressMulticast(in []byte, off *int, mode uint8, stateful bool, cid uint8, ctx *ContextTable) (netip.Addr, error) {
	const field = "dst address"
	var a [16]byte
	a[0] = 0xff
	if stateful {
		// DAC=1: only DAM=00 is defined, 48 bits inline:
		// ffXX:XXLL:PPPP:PPPP:PPPP:PPPP:XXXX:XXXX (RFC 6282 §3.1.1, RFC 3306).
		if mode != am128 {
			return netip.Addr{}, perr(field, ErrReserved)
		}
		p, ok := ctx.Lookup(cid)
		if !ok {
			return netip.Addr{}, perr(field, ErrContext)
		}
		v, err := take(in, off, 6, field)
		if err != nil {
			return netip.Addr{}, err
		}
		pa := p.Masked().Addr().As16()
		a[1], a[2] = v[0], v[1]
		a[3] = byte(min(p.Bits(), 64))
		copy(a[4:12], pa[:8])
		copy(a[12:], v[2:])
		return netip.AddrFrom16(a), nil
	}
	switch mode {
	case am128:
		v, err := take(in, off, 16, field)
		if err != nil {
			return netip.Addr{}, err
		}
		return netip.AddrFrom16([16]byte(v)), nil
	case am64:
		v, err := take(in, off, 6, field)
		if err != nil {
			return netip.Addr{}, err
		}
		a[1] = v[0]
		copy(a[11:], v[1:])
	case am16:
		v, err := take(in, off, 4, field)
		if err != nil {
			return netip.Addr{}, err
		}
		a[1] = v[0]
		copy(a[13:], v[1:])
	default:
		v, err := take(in, off, 1, field)
		if err != nil {
			return netip.Addr{}, err
		}
		a[1], a[15] = 0x02, v[0]
	}
	return netip.AddrFrom16(a), nil
}
