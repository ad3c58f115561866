package lowpan

import (
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// IID returns the 64-bit interface identifier derived from a link-layer
// address (RFC 6282 §3.2.2, RFC 4944 §6): for an extended address the
// EUI-64 with the Universal/Local bit inverted; for a short address
// 0000:00ff:fe00:XXXX. It reports false for AddrNone.
func IID(a ieee802154.Address) ([8]byte, bool) {
	switch a.Mode {
	case ieee802154.AddrExt:
		iid := [8]byte(a.Ext)
		iid[0] ^= 0x02
		return iid, true
	case ieee802154.AddrShort:
		return shortIID(byte(a.Short>>8), byte(a.Short)), true
	}
	return [8]byte{}, false
}

func shortIID(hi, lo byte) [8]byte { return [8]byte{0, 0, 0, 0xff, 0xfe, 0, hi, lo} }

// isShortIID reports whether the low 64 bits of a are 0000:00ff:fe00:XXXX.
func isShortIID(a *[16]byte) bool {
	return a[8] == 0 && a[9] == 0 && a[10] == 0 && a[11] == 0xff && a[12] == 0xfe && a[13] == 0
}

// LinkLocal returns the fe80::/64 address with the IID of a.
func LinkLocal(a ieee802154.Address) netip.Addr {
	iid, _ := IID(a)
	var b [16]byte
	b[0], b[1] = 0xfe, 0x80
	copy(b[8:], iid[:])
	return netip.AddrFrom16(b)
}

// AddrFromPrefix returns the address formed from a /64 (or shorter) prefix
// and the IID of a, as a node does with the prefix a DIO hands it.
func AddrFromPrefix(p netip.Prefix, a ieee802154.Address) netip.Addr {
	iid, _ := IID(a)
	return withContext(p.Masked(), iid)
}

// LinkAddr inverts IID: it returns the link-layer address whose IID is the
// low 64 bits of addr (a short address for 0000:00ff:fe00:XXXX, otherwise
// the extended address with the U/L bit restored).
func LinkAddr(addr netip.Addr) ieee802154.Address {
	b := addr.As16()
	if isShortIID(&b) {
		return ieee802154.Short(ieee802154.ShortAddr(b[14])<<8 | ieee802154.ShortAddr(b[15]))
	}
	var e ieee802154.ExtAddr
	copy(e[:], b[8:])
	e[0] ^= 0x02
	return ieee802154.Ext(e)
}
