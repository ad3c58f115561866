package lowpan

import "net/netip"

// ContextTable holds the up to 16 address contexts of RFC 6282 §3.1.2,
// indexed by context identifier. A zero (invalid) Prefix means the context
// is not in use. Context 0 is the area's /64 prefix, the default context.
type ContextTable [16]netip.Prefix

// Lookup returns context id.
func (t *ContextTable) Lookup(id uint8) (netip.Prefix, bool) {
	if t == nil || id > 15 || !t[id].IsValid() || !t[id].Addr().Is6() {
		return netip.Prefix{}, false
	}
	return t[id], true
}

// find returns the lowest context id whose prefix contains a.
func (t *ContextTable) find(a netip.Addr) (uint8, netip.Prefix, bool) {
	if t == nil {
		return 0, netip.Prefix{}, false
	}
	for i, p := range t {
		if p.IsValid() && p.Addr().Is6() && p.Contains(a) {
			return uint8(i), p, true
		}
	}
	return 0, netip.Prefix{}, false
}

// withContext builds an address from a 64-bit IID and a context prefix:
// the prefix bits are always used and override IID bits; bits covered by
// neither are zero (RFC 6282 §3.1.1, SAM=01).
func withContext(p netip.Prefix, iid [8]byte) netip.Addr {
	var a [16]byte
	copy(a[8:], iid[:])
	pa := p.Addr().As16()
	bits := p.Bits()
	for i := 0; i < 16 && bits > 0; i++ {
		if bits >= 8 {
			a[i] = pa[i]
			bits -= 8
			continue
		}
		m := byte(0xff) << (8 - bits)
		a[i] = pa[i]&m | a[i]&^m
		bits = 0
	}
	return netip.AddrFrom16(a)
}
