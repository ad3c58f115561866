// Package stack is one emulated node's network stack, bottom to top:
//
//   - an IEEE 802.15.4 MAC over a medium.Radio: data frames with extended
//     addresses and PAN ID compression, acknowledgments (§7.5.6.4) and up
//     to 7 retransmissions with random backoff for unicast frames (as
//     Contiki-NG's CSMA), duplicate suppression by sequence number;
//   - 6LoWPAN (package lowpan): IPHC with the DODAG prefix as context 0,
//     NHC-UDP, RFC 4944 fragmentation and bounded reassembly;
//   - IPv6 with RPL routing in non-storing mode (package dodag): the
//     default route to the preferred parent, RFC 6554 source routes from the
//     root (processed hop by hop, inserted by the root), ICMPv6 echo and
//     address-unreachable errors (RFC 4443) that tell the root of broken
//     downward links;
//   - UDP sockets (UDPConn) that implement net.PacketConn with *net.UDPAddr
//     IPv6 addresses, so an MQTT-SN client or gateway runs on the mesh
//     unchanged.
//
// A Stack is a node by default and the DODAG root with Config.RPL.Root
// (package border wraps that). Tables are bounded as on a z1 (neighbours,
// reassembly buffers, queues; see Config); a root's routes are not.
//
// Energy accounting attaches to Config.OnFrame, told of every frame sent,
// received or overheard with its length. Counters and Status give the
// rest.
//
// Concurrency: one mutex guards the whole stack; radio deliveries, timers
// (on Config.Clock, so tests and simulations run on clock.Virtual) and
// socket writes take it. Callbacks (OnFrame, OnJoin, OnLeave) run with it
// held and must not block or call back into the Stack.
package stack
