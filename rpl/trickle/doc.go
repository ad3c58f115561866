// Package trickle implements the Trickle algorithm (RFC 6206) that paces
// RPL's DIO messages (RFC 6550 §8.3).
//
// A Timer runs intervals of length I between Imin and Imax = Imin·2^Doublings
// (RFC 6206 §4.1). In each interval it picks a point t in [I/2, I) (§4.2 rule
// 2) and calls the transmit callback there unless it heard k or more
// consistent transmissions in the interval (rule 4; k = 0 means "never
// suppress", as RPL's DIORedundancyConstant 0 does, RFC 6550 §6.7.6). When an
// interval ends I doubles up to Imax (rule 5). Hear counts consistent
// transmissions (rule 3); Reset reacts to an inconsistency (rule 6).
//
// Time comes from an internal/clock.Clock, so tests and faster-than-real-time
// simulations drive it with clock.Virtual.
package trickle
