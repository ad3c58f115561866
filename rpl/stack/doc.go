// Package stack is one emulated node's network stack, bottom to top:
//
//   - an IEEE 802.15.4 MAC over a medium.Radio: data frames with extended
//     addresses and PAN ID compression, acknowledgments (§7.5.6.4) and up
//     to 7 retransmissions with random backoff for unicast frames (as
//     Contiki-NG's CSMA), duplicate suppression by sequence number, and
//     interframe spacing (§7.5.1.3): a radio begins a frame only after its
//     last one, a SIFS or LIFS after it (after the ACK of an acknowledged
//     frame), so a node that answers at once still answers after the ACK
//     exchange, when a duty-cycled neighbour's radio has gone to sleep;
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
// received or overheard with its length, and, for a duty-cycled radio, to
// Config.OnListen, told of the time the radio was on without a frame.
// Counters and Status give the rest.
//
// # Radio duty cycling (ContikiMAC-style), off by default
//
// Real z1 motes run ContikiMAC (Dunkels, SICS T2011:13): the radio sleeps
// and wakes every channel-check interval (8 Hz, 125 ms) for a short check.
// Config.ChannelCheckInterval emulates the receive side: checks of
// CheckWindow (0.5 ms) at a phase drawn from Seed; a frame that begins
// while the radio sleeps is lost (Counters.SleptThrough), and a check that
// overlaps a frame keeps the radio on (DetectListen) for the next
// repetition. After a unicast frame for it with Frame Pending set (a
// strobing sender sets it when another frame for the same neighbour is
// queued behind: IEEE 802.15.4-2006 §7.2.1.1.3, ContikiMAC's burst) or a
// 6LoWPAN fragment for it with more to come the radio stays on BurstHold
// for the next one; after any other frame it sleeps at once. It is held on while its own frame is in flight and
// while the node is not joined to a DODAG: an unjoined node scans with its
// radio on, as Contiki-NG nodes do before they associate, so it hears the
// first DIO at once. Config.StrobeTime emulates the transmit side: a
// unicast frame is repeated StrobeGap (0.4 ms) apart until acknowledged or
// StrobeTime has passed (then one failed try; DefaultStrobeRetries), a
// broadcast for the whole StrobeTime. RPL DIOs, DIS and other multicast
// reach sleeping joined nodes that way, every check falling inside the
// strobe. Border routers are mains powered: always on
// (ChannelCheckInterval 0) but strobing, so their downlink frames wait for
// the node's next check (up to one interval) while an always-on receiver
// acknowledges the first repetition.
//
// Not emulated: ContikiMAC's phase-lock optimisation (senders learn a
// neighbour's wake-up phase and strobe briefly; every strobe here starts
// blind), the clear-channel assessment before a strobe and collisions (the
// medium has none: overlapping frames are all delivered, in order per
// receiver, and a radio hears while it sends), the fast-sleep silence heuristics and the
// radio's start-up time. Detection is simplified to "a check window
// overlaps the frame's airtime"; reception to "the radio was on when the
// frame began". The medium delivers a frame when its last octet arrives,
// so the receiver judges its radio state after the fact and settles
// listen time 10 ms behind the clock.
//
// Concurrency: one mutex guards the whole stack; radio deliveries, timers
// (on Config.Clock, so tests and simulations run on clock.Virtual) and
// socket writes take it. Callbacks (OnFrame, OnJoin, OnLeave) run with it
// held and must not block or call back into the Stack.
package stack
