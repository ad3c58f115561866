// Package hospital is the hospital scenario engine behind `lsmqtt sim` and
// `lsmqtt demo`: in one process, a Trusted System, N areas (wards), each an
// MQTT-SN gateway with its embedded broker (node/area), M patients wearing
// emulated z1 motes (node/mote) that walk between the wards, and a
// caregivers' station that subscribes on every area broker and opens the
// envelopes with keys its access list allows (trust/monitor).
//
// # Floor plan
//
// Wards lie along one corridor: ward i's centre is at (i × Spacing, 0) and
// a patient in a ward stands at a point drawn from the seed inside its
// Size × Size square. Positions are recorded for the "where each patient
// was" chart.
//
// # Mobility
//
// Random waypoint over wards: a patient stays a dwell time drawn uniformly
// from [Dwell/2, 3·Dwell/2], then walks to another ward drawn uniformly, the
// walk taking the corridor distance at Speed. Or scripted routes from the
// scenario file: at time T, patient P goes to ward W. While walking a
// patient is in no ward's coverage.
//
// Handover is reconnect-based: gateways do not hand sessions over (the
// gateway handover of issue 7 is not wired in yet). A patient who arrives in
// a ward connects to that ward's gateway afresh: admission by the TS, a new
// payload key, topic registration. The handover duration is from arrival
// until the mote is connected there; a failure is an arrival after which the
// mote could not connect within HandoverTimeout. Readings due during the
// walk and the handover are held and published on arrival (the mote's
// sampling continues), so QoS 1 with no radio loss delivers everything.
//
// # Transport
//
// The motes speak MQTT-SN over loopback UDP to their ward's gateway
// (node/mote UDPTransport): the 802.15.4 frames each datagram takes are
// ESTIMATED with mote.LinkModel (one hop to the border router) and charged
// to the energy meter; there is no RPL mesh in this mode, so RPL overhead is
// reported as zero and --pcap is not available.
//
// # Time and determinism
//
// With Virtual set, everything runs on a clock.Virtual driven by a
// node/vtime Driver, faster than real time. The UDP sockets are real, so
// goroutine scheduling decides the order of events within a step; the
// summary's counts (published, delivered, handovers, frames, octets) and the
// energy per node are deterministic under the seed when no datagram is lost,
// while latencies are virtual-time measurements whose sub-millisecond
// values depend on the driver's steps. Summary.Deterministic keeps only the
// reproducible part.
package hospital
