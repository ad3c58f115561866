// Package measure measures per-transaction energy by running the emulator,
// so that `lsmqtt energy`'s emulated model can use measured rather than
// modelled figures (node/eval.MeasuredFigures, eval.Source).
//
// For each scheme (payload suite) it starts a fresh in-process area
// (node/area: Trusted System, gateway, embedded broker, 6LoWPAN/RPL mesh
// or loopback UDP) on a virtual clock, and two motes: a publisher and a
// subscribing mote that decrypts what it receives, each one hop from the
// border router. After they join, the mesh settles (Settle, 30 emulated
// minutes by default, so Trickle has slowed the DIOs). Then:
//
//  1. setup: both motes connect (admission proof), register and subscribe,
//     the publisher fetches its payload key and one warm-up transaction
//     makes the subscriber fetch it too;
//  2. N transactions, Spacing apart: the publisher seals its latest
//     vital-sign record and publishes it (QoS 1 by default); the gateway and
//     broker deliver it to the subscriber, which opens it. Each transaction
//     ends when the subscriber has the message and no frame of either mote
//     is in flight.
//
// The meters' deltas over step 2 become eval.MeasuredRun and, through
// eval.MeasuredFigures, per-transaction Encrypt/Transmit (publisher) and
// Receive/Decrypt (subscriber) energies; the idle floor over the same time
// is subtracted there. Everything the motes did counts: CCA and ACKs,
// retransmissions, RPL control traffic, fragments. The setup of step 1
// (minus one average transaction) is reported separately and spread over
// SessionTx transactions, as the modelled figures spread theirs. Sensor
// sampling is outside both windows: the paper's transaction is encrypt,
// transmit, receive, decrypt.
//
// CB-DTLS is not run (lsmqtt has no DTLS): Source serves measured figures
// where there are some and falls back to the model for the rest.
package measure
