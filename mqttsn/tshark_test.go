package mqttsn

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// Where Wireshark's MQTT-SN dissector (checked with 4.0) and MQTT-SN v1.2
// disagree, the spec wins; these are the documented differences.
var wiresharkDeviations = map[string]string{
	// §5.4.7 and §5.4.22 define the 2-octet empty form (no Flags, no
	// WillTopic) that deletes the will; Wireshark expects a Flags octet and
	// reports the message as malformed.
	"WILLTOPIC empty (delete will)":    "malformed",
	"WILLTOPICUPD empty (delete will)": "malformed",
	// §5.4.15: a pre-defined topic id is a 2-octet integer; Wireshark shows
	// it as a string and warns about "trailing stray characters" at its 0x00.
	"SUBSCRIBE predefined": "expert",
}

// tsharkFields are the dissector fields the test reads, in column order.
var tsharkFields = []string{
	"frame.number", "mqttsn.msg.type", "mqttsn.msg.len", "mqttsn.dup", "mqttsn.qos", "mqttsn.retain",
	"mqttsn.will", "mqttsn.clean.session", "mqttsn.topic.id.type", "mqttsn.topic.id", "mqttsn.msg.id",
	"mqttsn.topic", "mqttsn.topic.name.or.id", "mqttsn.client.id", "mqttsn.return.code", "mqttsn.gw.id",
	"mqttsn.adv.interv", "mqttsn.radius", "mqttsn.protocol.id", "mqttsn.keep.alive", "mqttsn.sleep.timer",
	"mqttsn.will.topic", "mqttsn.will.msg", "mqttsn.pub.msg", "mqttsn.wireless.node.id",
	"mqttsn.control.info", "_ws.malformed", "_ws.expert.message",
}

func hexByte(v uint8) string { return "0x" + strings.ToLower(hex8(v)) }
func dec(v uint16) string    { return strconv.Itoa(int(v)) }
func bit(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// wantFields is what Wireshark should report for m: the fields its
// dissector shows for this message type, computed from our decoded struct.
func wantFields(m Message, f map[string]string) {
	add := func(k, v string) {
		if old, ok := f[k]; ok {
			v = old + "," + v // inner message of an Encapsulated one
		}
		f[k] = v
	}
	add("mqttsn.msg.type", hexByte(uint8(m.Type())))
	switch m := m.(type) {
	case *Encapsulated:
		add("mqttsn.msg.len", strconv.Itoa(3+len(m.NodeID)))
		var id uint16
		for _, c := range m.NodeID {
			id = id<<8 | uint16(c)
		}
		add("mqttsn.wireless.node.id", dec(id))
		add("mqttsn.control.info", hexByte(m.Radius))
		wantFields(m.Msg, f)
		return
	default:
		add("mqttsn.msg.len", strconv.Itoa(m.Len()))
	}
	switch m := m.(type) {
	case *Advertise:
		add("mqttsn.gw.id", strconv.Itoa(int(m.GWID)))
		add("mqttsn.adv.interv", dec(m.Duration))
	case *SearchGW:
		add("mqttsn.radius", strconv.Itoa(int(m.Radius)))
	case *GWInfo:
		add("mqttsn.gw.id", strconv.Itoa(int(m.GWID)))
	case *Connect:
		add("mqttsn.will", bit(m.Will))
		add("mqttsn.clean.session", bit(m.CleanSession))
		add("mqttsn.protocol.id", "0x01")
		add("mqttsn.keep.alive", dec(m.Duration))
		add("mqttsn.client.id", string(m.ClientID))
	case *Connack:
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	case *WillTopic:
		if len(m.Topic) > 0 {
			add("mqttsn.will.topic", string(m.Topic))
		}
	case *WillTopicUpd:
		if len(m.Topic) > 0 {
			add("mqttsn.will.topic", string(m.Topic))
		}
	case *WillMsg:
		add("mqttsn.will.msg", string(m.Msg))
	case *WillMsgUpd:
		add("mqttsn.will.msg", string(m.Msg))
	case *Register:
		add("mqttsn.topic.id", dec(m.TopicID))
		add("mqttsn.msg.id", dec(m.MsgID))
		add("mqttsn.topic", string(m.TopicName))
	case *Regack:
		add("mqttsn.topic.id", dec(m.TopicID))
		add("mqttsn.msg.id", dec(m.MsgID))
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	case *Publish:
		add("mqttsn.dup", bit(m.DUP))
		add("mqttsn.qos", hexByte(uint8(m.QoS)&3))
		add("mqttsn.retain", bit(m.Retain))
		add("mqttsn.topic.id.type", hexByte(uint8(m.TopicIDType)))
		add("mqttsn.topic.id", dec(m.TopicID))
		add("mqttsn.msg.id", dec(m.MsgID))
		if len(m.Data) > 0 {
			add("mqttsn.pub.msg", string(m.Data))
		}
	case *Puback:
		add("mqttsn.topic.id", dec(m.TopicID))
		add("mqttsn.msg.id", dec(m.MsgID))
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	case *Pubrec:
		add("mqttsn.msg.id", dec(m.MsgID))
	case *Pubrel:
		add("mqttsn.msg.id", dec(m.MsgID))
	case *Pubcomp:
		add("mqttsn.msg.id", dec(m.MsgID))
	case *Unsuback:
		add("mqttsn.msg.id", dec(m.MsgID))
	case *Subscribe:
		add("mqttsn.topic.id.type", hexByte(uint8(m.TopicIDType)))
		add("mqttsn.msg.id", dec(m.MsgID))
		switch m.TopicIDType {
		case TopicIDNormal:
			add("mqttsn.topic.name.or.id", string(m.TopicName))
		case TopicIDShort:
			add("mqttsn.topic.name.or.id", ShortTopicName(m.TopicID))
		}
	case *Unsubscribe:
		add("mqttsn.topic.id.type", hexByte(uint8(m.TopicIDType)))
		add("mqttsn.msg.id", dec(m.MsgID))
		switch m.TopicIDType {
		case TopicIDNormal:
			add("mqttsn.topic.name.or.id", string(m.TopicName))
		case TopicIDShort:
			add("mqttsn.topic.name.or.id", ShortTopicName(m.TopicID))
		}
	case *Suback:
		add("mqttsn.topic.id", dec(m.TopicID))
		add("mqttsn.msg.id", dec(m.MsgID))
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	case *Pingreq:
		if len(m.ClientID) > 0 {
			add("mqttsn.client.id", string(m.ClientID))
		}
	case *Disconnect:
		if m.HasDuration {
			add("mqttsn.sleep.timer", dec(m.Duration))
		}
	case *WillTopicResp:
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	case *WillMsgResp:
		add("mqttsn.return.code", hexByte(uint8(m.ReturnCode)))
	}
}

// TestTshark writes every golden message as a UDP datagram into a pcap file
// and has Wireshark's MQTT-SN dissector decode it: an independent check of
// message types and key fields, and that nothing is flagged malformed.
func TestTshark(t *testing.T) {
	tshark := testutil.NeedTool(t, "tshark")
	const port = 1883
	gs := allGoldens()
	var payloads [][]byte
	for _, g := range gs {
		payloads = append(payloads, g.b)
	}
	var pcap bytes.Buffer
	if err := writePcap(&pcap, 40000, port, payloads); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "goldens.pcap")
	if err := os.WriteFile(path, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", path, "-d", "udp.port==" + strconv.Itoa(port) + ",mqttsn",
		"-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // no user profile
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(gs) {
		t.Fatalf("tshark printed %d frames, want %d:\n%s", len(lines), len(gs), out)
	}
	for i, line := range lines {
		g := gs[i]
		cols := strings.Split(line, "|")
		if len(cols) != len(tsharkFields) {
			t.Fatalf("frame %d: %d columns, want %d: %q", i+1, len(cols), len(tsharkFields), line)
		}
		got := map[string]string{}
		for j, f := range tsharkFields {
			got[f] = cols[j]
		}
		m, _, err := Decode(g.b)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		wantFields(m, want)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: Wireshark %s = %q, want %q", g.name, k, got[k], v)
			}
		}
		dev := wiresharkDeviations[g.name]
		switch {
		case dev == "malformed":
			if got["_ws.malformed"] == "" {
				t.Logf("%s: Wireshark no longer flags this message as malformed; drop the deviation", g.name)
			}
		case got["_ws.malformed"] != "":
			t.Errorf("%s: Wireshark flags it malformed: %s", g.name, got["_ws.expert.message"])
		case dev == "expert":
		case got["_ws.expert.message"] != "":
			t.Errorf("%s: Wireshark expert info: %s", g.name, got["_ws.expert.message"])
		}
	}
}
