package border

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// tee sends every frame to several captures.
type tee []medium.Capture

func (t tee) WriteFrame(at time.Time, psdu []byte) error {
	for _, c := range t {
		if err := c.WriteFrame(at, psdu); err != nil {
			return err
		}
	}
	return nil
}

func publish(i int) []byte {
	m := &mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDNormal, TopicID: 1, MsgID: uint16(i + 1),
		Data: bytes.Repeat([]byte{byte('A' + i%26)}, 8+9*i)} // the later ones need 6LoWPAN fragments
	b, err := mqttsn.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// puback answers a PUBLISH as a gateway would.
func puback(req []byte) []byte {
	m, err := mqttsn.DecodeDatagram(req)
	if err != nil {
		return []byte("bad")
	}
	p := m.(*mqttsn.Publish)
	b, _ := mqttsn.Marshal(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.Accepted})
	return b
}

func runTshark(t *testing.T, args ...string) string {
	t.Helper()
	bin := testutil.NeedTool(t, "tshark")
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// TestTsharkDecodesCapture captures a whole run (DODAG formation, MQTT-SN
// exchanges over several hops with source routes and fragments) and has
// tshark's stock dissectors decode it: ZEP, 802.15.4, 6LoWPAN, IPv6, ICMPv6
// RPL, UDP and MQTT-SN, with no malformed packet and no bad checksum.
func TestTsharkDecodesCapture(t *testing.T) {
	testutil.NeedTool(t, "tshark")
	dir := t.TempDir()
	zepPath, wpanPath := filepath.Join(dir, "zep.pcap"), filepath.Join(dir, "wpan.pcap")
	var zepBuf, wpanBuf bytes.Buffer
	zc, err := medium.NewPcapCapture(&zepBuf, medium.CaptureZEP, 0)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := medium.NewPcapCapture(&wpanBuf, medium.CaptureWPAN, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := newMesh(t, medium.Config{Range: 50, Seed: 5, Loss: 0.1, Capture: tee{zc, wc}})
	r := w.build(lineTopo(4), dodag.Config{}, stack.Config{})
	if _, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, time.Minute, 100*time.Millisecond); !ok {
		t.Fatal("did not converge")
	}
	e := startResponder(t, r.PacketConn(), puback)
	if _, err := w.exchangeWith(r, w.nodes, publish, puback, time.Minute, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r.PacketConn().Close()
	<-e.done
	w.m.Close()
	if err := os.WriteFile(zepPath, zepBuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wpanPath, wpanBuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	if p := os.Getenv("LSMQTT_KEEP_PCAP"); p != "" {
		_ = os.WriteFile(p, zepBuf.Bytes(), 0o600)
	}
	prefs := []string{"-o", "6lowpan.context0:" + r.Prefix().String(), "-d", "udp.port==1883,mqttsn",
		"-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "wpan.fcs_format:TRUE"}
	for _, path := range []string{zepPath, wpanPath} {
		verbose := runTshark(t, append([]string{"-n", "-r", path, "-V"}, prefs...)...)
		for _, bad := range []string{"Malformed", "Bad FCS", "FCS Bad", "[Checksum Status: Bad]", "incorrect",
			"Expert Info (Error", "Expert Info (Warning"} {
			if i := strings.Index(verbose, bad); i >= 0 {
				lo := max(0, i-1500)
				t.Errorf("%s: tshark reports %q:\n...%s", filepath.Base(path), bad, verbose[lo:min(len(verbose), i+300)])
			}
		}
	}
	if t.Failed() {
		return
	}
	out := runTshark(t, append([]string{"-n", "-r", zepPath, "-T", "fields", "-e", "frame.protocols",
		"-e", "icmpv6.type", "-e", "icmpv6.code", "-e", "ipv6.routing.type", "-e", "mqttsn.msg.type",
		"-e", "wpan.fcs_ok", "-e", "udp.checksum.status", "-e", "icmpv6.checksum.status"}, prefs...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]int{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		for len(f) < 8 {
			f = append(f, "")
		}
		protos, icmpType, icmpCode, rt, mq, fcs, udpck, icmpck := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
		if !strings.HasPrefix(protos, "ip:udp:zep:wpan") {
			t.Fatalf("frame not decoded as ZEP/802.15.4: %q", l)
		}
		if fcs != "1" {
			t.Errorf("FCS not OK: %q", l)
		}
		// Checksum status: 1 good, 0 bad, 2 unverified; the outer
		// (IPv4/UDP around ZEP) and the inner UDP both report.
		for _, st := range strings.Split(udpck, ",") {
			if st != "" && st != "1" {
				t.Errorf("UDP checksum status %q: %q", udpck, l)
			}
		}
		if udpck == "1,1" {
			seen["udp checksum verified"]++
		}
		if icmpck == "1" {
			seen["icmpv6 checksum verified"]++
		}
		if icmpck != "" && icmpck != "1" {
			t.Errorf("ICMPv6 checksum status %q: %q", icmpck, l)
		}
		if icmpType == "155" {
			seen["rpl code "+icmpCode]++
		}
		if strings.Contains(protos, "6lowpan:ipv6:icmpv6") {
			seen["icmpv6"]++
		}
		if strings.Contains(protos, "ipv6:udp:mqttsn") || strings.Contains(protos, "ipv6.routing:udp:mqttsn") {
			seen["mqttsn"]++
			seen["mqttsn type "+mq]++
		}
		if strings.Contains(rt, "3") {
			seen["srh"]++
		}
		if strings.Contains(protos, "6lowpan") {
			seen["6lowpan"]++
		}
	}
	t.Logf("%d frames; seen %v", len(lines), seen)
	if testing.Verbose() {
		t.Logf("sample:\n%s", strings.Join(lines[len(lines)-12:], "\n"))
	}
	for _, want := range []string{"rpl code 0", "rpl code 1", "rpl code 2", "rpl code 3", "6lowpan", "icmpv6",
		"mqttsn", "mqttsn type 0x0c", "mqttsn type 0x0d", "srh", "udp checksum verified", "icmpv6 checksum verified"} {
		if seen[want] == 0 {
			t.Errorf("no frame with %s in the capture", want)
		}
	}
}
