// Package loadgen is the load generator behind `lsmqtt bench`.
//
// It has two modes that report in the same terms, so every gateway figure can
// be stated as a fraction of what the machine itself can move:
//
//   - Raw mode (RunRaw) measures the machine's UDP ceiling: N sender sockets
//     write datagrams of a given size with sendmmsg (golang.org/x/net ipv4/ipv6
//     PacketConn.WriteBatch), paced or unpaced, into a plain sink socket that
//     reads with recvmmsg (ReadBatch) and a large SO_RCVBUF.
//   - MQTT-SN mode (Run) drives any MQTT-SN v1.2 gateway over UDP: N clients,
//     each with its own socket and client id, a CONNECT burst (MQTT-SN v1.2
//     §6.2), optional REGISTER (§6.5), then PUBLISH at QoS -1/0/1/2 (§6.8,
//     §6.9, §6.10) paced at a total rate or unpaced, with an in-flight window
//     per client and retransmission with the DUP flag on timeout (§6.13).
//     An optional subscriber, over MQTT (paho.golang) on a broker URL or over
//     MQTT-SN through the gateway, counts end-to-end delivery and latency from
//     a send timestamp and sequence number carried in every payload.
//
// Messages are built and parsed with the mqttsn codec directly (no client
// library) and sockets use batch I/O, so the generator itself stays far from
// being the bottleneck. Latencies go into fixed-size log-linear histograms
// (Histogram) that record without allocating or locking.
package loadgen
