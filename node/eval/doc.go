// Package eval reproduces the evaluation of Bashir & Mir (2021), §5.2 and §6
// (shared/reference/paper-bashir-mir-2021.md), and sets honest figures beside
// it.
//
// Two models, always labelled:
//
//   - paper: the paper's own model. Lifetime = battery energy / (transactions
//     per hour × energy per transaction), with no idle or sleep current. The
//     per-transaction energies are not typed in: they are derived from the
//     published lifetimes (53,664 h and 9,575 h at 10 transactions/hour) and
//     the published battery (2 × AA, 2800 mAh, 3 V = 30,240 J), which gives
//     56.35 mJ (proposed) and 315.8 mJ (CB-DTLS) and the 17.84 % ratio.
//     Formula1 shows what the paper's formula (1) computes: a power (mW).
//
//   - emulated: per-transaction energies from the node/energy accounting.
//     A Source supplies them. Model (modelled) runs the meter over a modelled
//     transaction: an MQTT-SN PUBLISH at QoS 1 of an envelope-protected
//     vital-sign record in one 802.15.4 frame, with CCA, link-layer ACK and
//     the PUBACK, on the publisher and on a subscribing mote, plus the
//     session setup (TS key delivery or a certificate-based DTLS handshake)
//     amortised over a stated session length. MeasuredFigures turns the meters of a
//     real emulator run into the same Figures. Lifetimes include the idle
//     floor: LPM current and the MAC's idle listening.
//
// Report (Evaluate) puts both beside the paper's memory figure and the code
// size of each suite; evalplot draws the charts.
package eval
