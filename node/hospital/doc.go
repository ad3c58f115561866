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
// was" chart. On the mesh they are the radio medium's topology: ward i's
// border router stands at its centre, a patient's radio at their bed, and
// while they walk in the corridor, out of every router's range.
//
// # Mobility
//
// Random waypoint over wards: a patient stays a dwell time drawn uniformly
// from [Dwell/2, 3·Dwell/2], then walks to another ward drawn uniformly, the
// walk taking the corridor distance at Speed. Or scripted routes from the
// scenario file: at time T, patient P goes to ward W. While walking a
// patient is in no ward's coverage.
//
// Each patient wears one node/mote for the whole run. On arrival in another
// ward it moves its session to that ward's gateway (Mote.Move): with
// Handover "handover" (default) the gateways' session handover (HO-RESUME
// at the visited gateway, which fetches the session from the home one over
// the backhaul, peerlink.go), with "reconnect" (mote Config.NoHandover) a
// full connect there: admission by the TS, topic registration. On the mesh
// the mote's RPL stack first has to find the ward's DODAG. The handover
// duration is from arrival until the mote can publish again; a failure is
// an arrival after which it could not within HandoverTimeout. Readings due
// during the walk are skipped (counted), those due during the handover are
// published after it.
//
// # Transport
//
// Mesh (default): one rpl/medium radio medium for the floor plan, a
// border router per ward (node/area with Mesh, rpl/border) whose
// PacketConn the ward's gateway serves, and each mote on its own rpl/stack
// (mote.MeshTransport). Every frame the medium carries is decoded and its
// octets counted by class: PUBLISH, other MQTT-SN, TS, RPL DIS, DIO, DAO,
// DAO-ACK (airframes.go); Config.Pcap writes them to a pcap file.
//
// UDP (Scenario.Transport "udp"): MQTT-SN over loopback UDP to the ward's
// gateway (mote.UDPTransport); the 802.15.4 frames each datagram takes are
// ESTIMATED with mote.LinkModel (one hop to the border router), there is no
// RPL, and no capture. The fast option for very large runs.
//
// # Time and determinism
//
// With Virtual set, everything runs on a clock.Virtual driven by a
// node/vtime Driver, faster than real time. The gateways, brokers, station
// and mote clients are goroutines the clock cannot see, so the driver lets
// them settle and steps finely while a patient has work in flight; what
// the clock drives (the medium, the stacks, the patients' radios moving)
// happens at its emulated time. The summary's counts, frames, octets and
// energy per node are deterministic under the seed when nothing is lost
// (Summary.Deterministic keeps that part; docs/hospital.md says where it
// does not hold yet); wall-clock latencies (UDP) are not.
package hospital
