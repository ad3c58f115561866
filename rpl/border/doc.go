// Package border is an area's border router: the RPL DODAG root of the
// area's mesh, owner of its /64 prefix (handed out in the DIO Prefix
// Information option, RFC 6550 §6.7.10), and the point where the mesh's UDP
// traffic meets the gateway.
//
// The gateway gets a net.PacketConn (PacketConn) whose peer addresses are
// the nodes' IPv6 addresses (*net.UDPAddr): an MQTT-SN datagram a node sends
// to the router's address (Addr, the DODAGID) on the gateway port reaches
// the gateway with the node's global address as its source, and the
// gateway's reply goes back down the mesh by source route (RFC 6554). The
// gateway needs to know nothing else of the mesh.
//
// The router's tables are not bounded the way a node's are: it reassembles
// many datagrams at once and keeps a route for every node that sent a DAO.
package border
