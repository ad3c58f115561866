// Package fleet runs many emulated motes in one process (`lsmqtt node
// --count N`): each with its own client id (a prefix and a number:
// z1-0001, z1-0002, ...), its own credentials, its own MQTT-SN client and,
// over the mesh, its own node stack and radio.
//
// Credentials come from a directory of credential files written by
// `lsmqtt ts register` (<dir>/<id>.json, <dir>/<id>.cred or <dir>/<id>),
// or, in demo mode, from the in-process area's Trusted System, which
// registers every mote (patient group = the mote's number).
//
// Transports: UDP to any MQTT-SN gateway (real clock); the mesh of an
// in-process demo area (real or virtual clock); or a medium process over
// ZEP/UDP (`lsmqtt medium`), whose border router and gateway run elsewhere
// (real clock). On a virtual clock a vtime.Driver runs emulated time as
// fast as the host allows.
//
// Report turns each mote's meter into an energy report: ticks per state
// (CPU, LPM, TX, RX, idle listening, sensors), energy in mJ, average power
// and the lifetime it projects on the profile's battery.
package fleet
