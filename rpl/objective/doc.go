// Package objective implements RPL objective functions: how a node turns its
// neighbours' advertised ranks and its link quality into its own rank and
// chooses its preferred parent.
//
//   - OF0, the Objective Function Zero (RFC 6552), OCP 0: rank grows by
//     (Rf·Sp + Sr)·MinHopRankIncrease per hop.
//   - MRHOF, the Minimum Rank with Hysteresis Objective Function (RFC 6719),
//     OCP 1, with the ETX link metric (RFC 6551 §4.3.2): rank is the path
//     cost in ETX·128 units, and the preferred parent changes only when
//     another is better by PARENT_SWITCH_THRESHOLD.
//   - ETX, a link ETX estimate updated from link-layer transmission outcomes
//     (an exponentially weighted moving average, as Contiki-NG's link-stats
//     keeps), which both functions can use.
//
// Ranks and DAGRank follow RFC 6550 §3.5.1 and §8.2.2.
// The package has no state beyond the ETX estimator; it starts no goroutines.
package objective
