// Package dodag is RPL's state machine (RFC 6550) for one node, in
// non-storing mode with source routing from the root (RFC 6554), as
// Contiki-NG's RPL-Lite runs it: the DODAG root, which owns the area's /64
// prefix and keeps every node's parent to compute source routes, and the
// ordinary node, which keeps a bounded neighbour table, one preferred
// parent and a default route.
//
// Implemented: DIS (§6.2), DIO with the DODAG Configuration (§6.7.6) and
// Prefix Information (§6.7.10) options, DAO with RPL Target and Transit
// Information options sent to the root (§6.4, §9.7) and DAO-ACK (§6.5);
// Trickle-paced DIOs (§8.3, package trickle); objective functions OF0 and
// MRHOF/ETX (package objective); DODAG version increment (global repair,
// §8.2.2.2), local repair with poisoning (§8.2.2.5), DTSN-triggered DAO
// refresh (§9.6), route lifetimes and No-Path DAOs at the root.
//
// Parent loss. RPL-Lite's defaults notice a dead parent only through
// link-layer feedback on data traffic and a 60 s probing interval, and its
// DIO Trickle reaches a maximum interval of about 17 minutes, so a node
// that walks into another area keeps a dead parent for minutes. Here a
// unicast frame to the parent that exhausts its link-layer retransmissions
// counts as a failure, and ParentFailThreshold consecutive failures (2 by
// default) drop the parent; a node that has heard nothing from its parent
// for ProbeInterval (4 s) probes it with a unicast DIS, whose link-layer
// acknowledgment (or its absence) decides; after a failure it probes again
// at once. Without another acceptable
// parent the node poisons its sub-DODAG (a DIO with INFINITE_RANK),
// detaches, and solicits DIOs with multicast DIS at once and then every
// DISInterval, backing off to DISMaxInterval; nodes
// of the new area reset their Trickle timers on a multicast DIS (§8.3), so
// the node joins within about a second of losing its parent. The old root
// drops the node's route when forwarding nodes report twice within a
// minute (ICMPv6 address unreachable) that the next hop of a source route
// failed, and in any case when the route's lifetime expires. A root that
// gets a DAO it cannot route back (an ancestor's route is gone) increments
// its DTSN, and every node passes the increment on and sends a new DAO.
//
// Mobile nodes. A node that walks between areas (node/mote's Mobile
// motes) runs as a leaf (Config.Leaf, RFC 6550 §8.5: no Trickle DIOs,
// INFINITE_RANK), drops its parent after one failed unicast
// (ParentFailThreshold 1) and sends its DAO within a few milliseconds of
// the join (DAODelay); with roots at RFC 6550 §17's DIOIntervalMin of 3
// (8 ms), the multicast DIS it sends on losing its parent resets the new
// root's Trickle timer and brings a DIO within 4–8 ms. The defaults are
// unchanged.
//
// Concurrency: a DODAG has no lock of its own. Its methods must be called
// with Config.Locker held (the node stack's mutex); its timers take that
// lock before they run.
package dodag
