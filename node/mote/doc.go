// Package mote is the emulated medical mote: a z1-class node (or any
// node/profile) with vital-sign sensors, the payload envelope, an MQTT-SN
// client and Energest-style energy accounting of everything it does.
//
// # What a mote does
//
// Its sensors (node/sensors) produce a patient's vital signs at their own
// rates: the pulse oximeter (heart rate and SpO2) every PulseOxInterval, the
// thermometer every TemperatureInterval and, when ECGBatch is set, the ECG
// front end at its sample rate. Every PublishInterval the latest reading
// goes out as a sensors record; every alarm raised or cleared by a sample
// goes out at once, at AlarmQoS (QoS 1 by default, higher than the routine
// readings' RoutineQoS, QoS 0 by default).
//
// Topics (normal topic names, each registered once per connection,
// MQTT-SN v1.2 §6.5):
//
//	ward/<area>/patient/<patient>/vitals   sensors record (10 octets)        RoutineQoS
//	ward/<area>/patient/<patient>/alarm    kind, raised, sensors record      AlarmQoS
//	ward/<area>/patient/<patient>/ecg      ECG batch (see AppendECG)         RoutineQoS
//
// <patient> is the node's patient group in the Trusted System (its
// credential file's "group"), so a caregiver granted that group subscribes
// to ward/+/patient/<group>/# and can open everything published there.
//
// # Payload protection
//
// Each payload is sealed in the trust/envelope format before it is
// published, with the topic as associated data:
//
//   - ProtectTS (the default with credentials): the key comes from the
//     Trusted System through the gateway's relay (TS-KEYREQ/TS-KEYRESP as
//     MQTT-SN extension messages, trust/tsclient.Session), rotates before it
//     expires and is wiped when the mote stops. The gateway's admission
//     challenge (TS-CHALLENGE) is answered with tsclient.Prove.
//   - ProtectStatic (`lsmqtt node --open` with a credential file): no TS;
//     the key is derived from the credential file's pre-shared secret
//     (StaticKey), a test key for third-party gateways. A reader with the
//     same file derives the same key.
//   - ProtectNone (`--open` without credentials): plaintext records.
//
// Suites: ascon128 (default), aes128-ccm8, and paper-xor only when named.
//
// # Moving between areas (session handover)
//
// The mote's MQTT-SN client is a gateway/handoverclient Node: its first
// connect is a full one (CONNECT with the admission proof, REGISTER of its
// topics), after which the gateway gives it a session token (HO-TOKEN).
// When the mote finds itself in another area it resumes its session at
// that area's gateway (HO-RESUME naming its home gateway and the token;
// the visited gateway fetches the session from the home one) and carries
// on with the same client id, topic ids and payload keys; a publish that
// was in flight goes out again there (a duplicate only as QoS 1 allows).
// If the resume fails (unknown or unreachable home, refused, expired
// token) it connects afresh there. How the mote learns it moved:
//
//   - mesh (MeshTransport): it joined another DODAG — its RPL root, where
//     the gateway is, changed. Once that root acknowledged its DAO, a
//     running mote (Run) moves at once, even with a publish in flight.
//   - its owner tells it: UDPTransport.SetGateway(addr) (a running mote
//     follows at once), or Mote.Move(ctx, addr) for a mote driven by hand.
//   - Config.FollowAdvertise: a UDP mote that hears another gateway's
//     ADVERTISE moves there.
//
// Any Connect (and so any publish) also moves the session when the
// transport names another gateway than the one the mote is connected to.
// Config.NoHandover makes every move a full reconfiguration instead (the
// baseline the handover is measured against): a full connect and, under
// ProtectTS, a new payload session whose fresh key is fetched from the TS
// before the next publish (Stats.KeyRenewals), Config.OnMove is told of each move,
// Mote.Moves lists them and Stats counts Moves, Handovers and Fallbacks.
//
// # Energy
//
// A node/energy Meter accounts for:
//
//   - every frame the radio sends or hears. Over the emulated mesh
//     (MeshTransport) the rpl/stack frame hook reports each PSDU: MQTT-SN
//     data, 6LoWPAN fragments, RPL control traffic, link-layer
//     acknowledgements and retransmissions, frames overheard from
//     neighbours. Over plain UDP (UDPTransport) there is no radio, so the
//     frames are ESTIMATED from each datagram's size as a one-hop 6LoWPAN
//     link to the border router would carry them (UplinkFrames: RFC 6282
//     IPHC with the area prefix as context 0, inline UDP ports, RFC 4944
//     fragmentation, one link-layer acknowledgement per frame).
//   - radio listening around frames: one CCA (profile radio.cca_us) before
//     each data frame, the turnaround (radio.turnaround_us) around each
//     acknowledgement, and macAckWaitDuration (54 symbols, 864 µs, IEEE
//     802.15.4-2006 §7.4.2) for each unicast attempt that got no
//     acknowledgement (mesh only).
//   - stack CPU work: profile stack_cycles_per_frame per frame sent or
//     received (not for overheard frames, which the radio's address
//     recognition drops).
//   - cryptography: Meter.Crypto per seal with the envelope's suite
//     (payload, and header plus topic as associated data); key requests and
//     admission proofs as KDF and HMAC-SHA256 (Hash) operations.
//   - sensor sampling: Meter.Sample per reading.
//   - time: the meter advances with the mote's clock, so LPM and the MAC's
//     idle listening (ContikiMAC, profile mac.idle_listen_ppm) cover the
//     rest. With a clock.Virtual the whole mote runs in emulated time.
//
// A duty-cycled mesh mote (MeshConfig.Stack.ChannelCheckInterval, e.g.
// ChannelCheckInterval(profile): 125 ms for the z1's 8 Hz) is metered on
// what its radio actually did instead: the stack reports every stretch
// the radio was on without a frame (rpl/stack Config.OnListen: channel
// checks, listening after a detection or a unicast, ACK waits, strobe
// gaps, backoff, scanning while not in a DODAG), charged as Energest LISTEN
// at the RX current (FrameCounts.Listen). Then, with no double count, the
// meter's profile has mac.idle_listen_ppm set to 0 (a copy: the caller's
// profile is not changed), and frames charge their airtime and stack
// cycles only (no modelled CCA, turnaround or macAckWaitDuration: those
// are in the reported listening).
//
// Not modelled for an always-on mote: ContikiMAC's transmit strobing (a
// sender repeating a frame until the receiver's next channel check) and
// its phase lock; frames are counted once per transmission attempt, as the
// medium carries them. A duty-cycled mesh has the strobing (rpl/stack
// Config.StrobeTime, every repetition a frame) but not the phase lock.
//
// # Mobile motes
//
// MeshConfig.Mobile tunes a mote that walks between areas for a quick
// rejoin (MobileStack): parent loss after one failed unicast, an ACK wait
// near macAckWaitDuration, the DAO within 8 ms of a join, RPL as a leaf
// (RFC 6550 §8.5). With the roots at a short Trickle Imin (RFC 6550 §17's
// 8 ms on an always-on mesh) a move's RPL reattachment takes about 0.1–0.2 s
// instead of 1–4 s (docs/BENCHMARKS.md "Over the RPL mesh").
package mote
