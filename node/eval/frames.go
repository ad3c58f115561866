package eval

import "github.com/lsmqtt/lsmqtt/trust/envelope"

// FrameModel gives the byte counts of a modelled transaction. Every field is
// a header size on the air; DefaultFrames says where each comes from.
type FrameModel struct {
	// MACHeader: frame control 2, sequence 1, destination PAN 2, destination
	// and source short addresses 2 + 2, PAN ID compression (IEEE 802.15.4-2006
	// §7.2.1). The FCS comes from the profile.
	MACHeader int `json:"mac_header"`
	// IPHC: dispatch and IPHC 2, context id 1, the far end's 64-bit IID inline
	// (prefix from context 0); traffic class, flow label and hop limit
	// compressed; our own address derived from the MAC address (RFC 6282 §3.1).
	IPHC int `json:"iphc"`
	// RPLOption: the RPL option (RFC 6553) in a hop-by-hop header compressed
	// with NHC (RFC 6282 §4.2): NHC 1, length 1, option 6. Upward only; a
	// one-hop downward route needs no source routing header (RFC 6554).
	RPLOption int `json:"rpl_option"`
	// UDP: NHC-UDP 1, both ports inline 4 (1883 is outside the compressible
	// 0xF0Bx range), checksum 2 (RFC 6282 §4.3.3).
	UDP int `json:"udp"`
	// MQTTSNPublish: length 1, type 1, flags 1, topic id 2, msg id 2
	// (MQTT-SN v1.2 §5.4.12); MQTTSNPuback: length 1, type 1, topic id 2,
	// msg id 2, return code 1 (§5.4.13).
	MQTTSNPublish int `json:"mqttsn_publish"`
	MQTTSNPuback  int `json:"mqttsn_puback"`
	// EnvelopeHeader: trust/envelope's header (version and suite 1, key id
	// 4, sender 2, sequence 4); the tag is per suite.
	EnvelopeHeader int `json:"envelope_header"`
	// EnvelopeAD: the associated data sealed with the payload:
	// trust/envelope binds the header and the topic name.
	EnvelopeAD int `json:"envelope_ad"`
	// Payload: the vital-sign record (sensors.Vitals, binary).
	Payload int `json:"payload"`
	// DTLSRecord: DTLS 1.2 record header 13, explicit nonce 8, CCM-8 tag 8
	// (draft-ietf-iotops-security-protocol-comparison: 29 bytes).
	DTLSRecord int `json:"dtls_record"`
	// DTLSAD: the DTLS 1.2 AEAD additional data: sequence 8, type 1,
	// version 2, length 2 (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1).
	DTLSAD int `json:"dtls_ad"`
	// FRAG1, FRAGN: RFC 4944 §5.3 fragment headers.
	FRAG1 int `json:"frag1"`
	FRAGN int `json:"fragn"`
}

// DefaultTopicBytes is the length of the topic name bound into the
// envelope's associated data, e.g. "ward3/patient0042/vitals" (24 bytes).
const DefaultTopicBytes = 24

// DefaultFrames returns the frame model for a payload of payload bytes.
func DefaultFrames(payload int) FrameModel {
	return FrameModel{
		MACHeader: 9, IPHC: 11, RPLOption: 8, UDP: 7,
		MQTTSNPublish: 7, MQTTSNPuback: 7,
		EnvelopeHeader: envelope.HeaderLen, EnvelopeAD: envelope.HeaderLen + DefaultTopicBytes, Payload: payload,
		DTLSRecord: 29, DTLSAD: 13, FRAG1: 4, FRAGN: 5,
	}
}

// FrameSizes are the PSDUs (MAC frame incl. FCS) of one transaction.
type FrameSizes struct {
	PublishUp   int `json:"publish_up"`   // publisher → border router
	PubackDown  int `json:"puback_down"`  // gateway → publisher
	PublishDown int `json:"publish_down"` // gateway → subscribing mote
	PubackUp    int `json:"puback_up"`    // subscribing mote → gateway
	Ack         int `json:"ack"`          // 802.15.4 acknowledgement
}

// publishBody is the UDP payload of a PUBLISH under the scheme: the MQTT-SN
// message with its data in an envelope, or the whole message in a DTLS record.
func (f FrameModel) publishBody(s Scheme) int {
	if s == CBDTLS {
		return f.DTLSRecord + f.MQTTSNPublish + f.Payload
	}
	return f.MQTTSNPublish + f.EnvelopeHeader + f.Payload + s.tagBytes()
}

func (f FrameModel) pubackBody(s Scheme) int {
	if s == CBDTLS {
		return f.DTLSRecord + f.MQTTSNPuback
	}
	return f.MQTTSNPuback
}

// Sizes computes the frames of one transaction for scheme s, with fcs the
// radio's FCS length.
func (f FrameModel) Sizes(s Scheme, fcs int) FrameSizes {
	up := f.MACHeader + f.IPHC + f.RPLOption + f.UDP + fcs
	down := f.MACHeader + f.IPHC + f.UDP + fcs
	return FrameSizes{
		PublishUp:   up + f.publishBody(s),
		PubackDown:  down + f.pubackBody(s),
		PublishDown: down + f.publishBody(s),
		PubackUp:    up + f.pubackBody(s),
		Ack:         5,
	}
}

// Fragments splits a UDP payload of n bytes sent with the given compressed
// header bytes (IPHC, NHC, RPL option) into 802.15.4 PSDUs of at most
// maxPSDU bytes. Without fragmentation it is one frame; otherwise the first
// fragment carries FRAG1 and the compressed headers, later ones FRAGN, and
// every fragment but the last carries a multiple of 8 bytes (RFC 4944 §5.3).
// The offsets of RFC 4944 count uncompressed bytes; ignoring that is a
// small approximation.
func (f FrameModel) Fragments(n, headers, fcs, maxPSDU int) []int {
	room := maxPSDU - f.MACHeader - fcs
	if headers+n <= room {
		return []int{f.MACHeader + headers + n + fcs}
	}
	var out []int
	first := (room - f.FRAG1 - headers) / 8 * 8
	if first <= 0 || room-f.FRAGN < 8 {
		return nil
	}
	out = append(out, f.MACHeader+f.FRAG1+headers+first+fcs)
	n -= first
	next := (room - f.FRAGN) / 8 * 8
	for n > 0 {
		c := min(n, next)
		out = append(out, f.MACHeader+f.FRAGN+c+fcs)
		n -= c
	}
	return out
}
