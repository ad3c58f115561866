// Package monitor is the caregiver's view of a hospital: it takes the
// envelopes that nodes publish on their area brokers
// (ward/<area>/patient/<patient>/<kind>, node/mote), opens them with keys the
// caregiver's access list allows (trust/tsclient Reader, fetched from the
// Trusted System), and keeps per patient the latest vital signs, the area
// (broker) the last message came through, when it was last seen, the alarms
// currently raised, and the gaps: sequence numbers (trust/envelope header)
// that never arrived.
//
// A Monitor is transport-free: Handle takes one publish. MQTTSource feeds it
// from one or more MQTT brokers over TCP (paho.golang, MQTT v5); a
// simulation feeds it in process. Render draws the table (ANSI redraw on a
// terminal, plain lines otherwise) and Event is the JSON line of one
// message for tools.
//
// Gap accounting follows the envelope rules: sequence numbers start at 1 for
// each key and only grow (trust/envelope). For each sender and key the
// monitor keeps the highest sequence number seen and the numbers below it
// still missing; a late arrival fills its gap. The first key seen from a
// sender after the monitor started counts no gap below its first message (the
// monitor was not listening); a later key counts every number below the
// first one seen.
package monitor
