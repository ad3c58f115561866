// Package medium emulates the radio channel of an IEEE 802.15.4 mesh.
//
// Nodes hand the medium MAC frames (PSDUs with their FCS) wrapped in ZEP v2
// datagrams (see package zep), one datagram per frame, and the medium hands
// each frame to every node in radio range, as a radio does: a unicast frame
// is heard by every neighbour, and receivers filter by destination address.
//
// Topology. In the unit-disk model (Cooja's UDGM) every node has a position;
// two nodes hear each other within Range, with a reception probability that
// falls with the square of the distance to 1 − EdgeLoss at the edge. Explicit
// per-link delivery probabilities (directed) override the disk, or replace it
// entirely with ModelLinks. A global Loss drops any delivery with that
// probability on top. Positions and links change at run time (SetPosition,
// SetLink), so links appear and disappear as patients walk.
//
// Timing. A frame reaches its receivers after its airtime at 250 kbit/s
// (32 µs per octet including the 6-octet PHY header) plus Delay and a random
// Jitter; frames reach each receiver in the order they were sent. Collisions
// and carrier sense are not modelled; loss stands in for them.
//
// Determinism. Every random draw comes from one generator seeded with
// Config.Seed, in transmission order; with clock.Virtual and one driving
// goroutine a run repeats exactly.
//
// Transports. Attach gives an in-process Port (the frames still cross as ZEP
// datagrams, in memory); ServeUDP serves nodes over real UDP (port 17754 by
// default, which Wireshark dissects as ZEP), learning each node's MAC
// address from the source address of its frames; DialZEP is the node side of
// that. Capture receives every frame the medium carries, for pcap output.
//
// Counters: frames and octets per node, offered and delivered frames per
// directed link, bad datagrams by reason.
package medium
