package ieee802154

// ShortAddr is a 16-bit short address (§7.2.1.4).
type ShortAddr uint16

// Broadcast short address and PAN identifier (§7.5.6.2).
const (
	BroadcastAddr ShortAddr = 0xffff
	BroadcastPAN  uint16    = 0xffff
)

// ExtAddr is a 64-bit extended address (an EUI-64) in the usual order, most
// significant octet first. On the air it is sent reversed (§7.2).
type ExtAddr [8]byte

// Address is a MAC address of either length. The zero value means "no
// address" (AddrNone). Address is comparable and may be used as a map key.
type Address struct {
	Mode  AddrMode
	Short ShortAddr // valid when Mode == AddrShort
	Ext   ExtAddr   // valid when Mode == AddrExt
}

// Short returns a short address.
func Short(a ShortAddr) Address { return Address{Mode: AddrShort, Short: a} }

// Ext returns an extended address.
func Ext(a ExtAddr) Address { return Address{Mode: AddrExt, Ext: a} }

// Broadcast is the broadcast short address 0xffff.
var Broadcast = Short(BroadcastAddr)

// IsBroadcast reports whether a is the short broadcast address 0xffff.
func (a Address) IsBroadcast() bool { return a.Mode == AddrShort && a.Short == BroadcastAddr }

const hexDigits = "0123456789abcdef"

// String formats a short address as 0x1234 and an extended one as
// 02:00:00:ff:fe:00:00:01.
func (a Address) String() string {
	switch a.Mode {
	case AddrShort:
		return a.Short.String()
	case AddrExt:
		return a.Ext.String()
	}
	return "none"
}

func (s ShortAddr) String() string {
	b := [6]byte{'0', 'x', hexDigits[s>>12], hexDigits[s>>8&15], hexDigits[s>>4&15], hexDigits[s&15]}
	return string(b[:])
}

func (e ExtAddr) String() string {
	var b [23]byte
	for i, v := range e {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i] = hexDigits[v>>4]
		b[3*i+1] = hexDigits[v&15]
	}
	return string(b[:])
}

// appendAddr appends a in on-air (little-endian) order.
func appendAddr(b []byte, a Address) []byte {
	switch a.Mode {
	case AddrShort:
		return append(b, byte(a.Short), byte(a.Short>>8))
	case AddrExt:
		return append(b, a.Ext[7], a.Ext[6], a.Ext[5], a.Ext[4], a.Ext[3], a.Ext[2], a.Ext[1], a.Ext[0])
	}
	return b
}

// readAddr reads an address of mode m from on-air bytes; the caller has
// checked len(b) >= m.Len().
func readAddr(b []byte, m AddrMode) Address {
	switch m {
	case AddrShort:
		return Short(ShortAddr(b[0]) | ShortAddr(b[1])<<8)
	case AddrExt:
		return Ext(ExtAddr{b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0]})
	}
	return Address{}
}
