package mote

import "net"

// WrapConn makes m's MQTT-SN client use wrap(socket) instead of the
// transport's socket; call it before the mote first connects (Run).
func WrapConn(m *Mote, wrap func(net.PacketConn) net.PacketConn) { m.wrapConn = wrap }
