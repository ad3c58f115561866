package hospital

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
)

// The sim's --pcap capture is a file tshark's stock dissectors decode:
// IEEE 802.15.4, 6LoWPAN, IPv6, ICMPv6 RPL (DIS, DIO, DAO, DAO-ACK) and
// MQTT-SN (CONNECT, PUBLISH and the TS extension messages among them), with
// no malformed frame. And the sim's air counter puts every frame tshark
// decodes whole into the class tshark sees.
func TestPcapDecodedByTshark(t *testing.T) {
	bin := testutil.NeedTool(t, "tshark")
	sc := smallScenario(t)
	sc.Duration.Duration = time.Minute
	var buf bytes.Buffer
	sum, err := Run(context.Background(), Config{Scenario: sc, Virtual: true, Pcap: &buf})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sim.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	tshark := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-n", "-r", path, "-d", "udp.port==1883,mqttsn"}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	if v := tshark("-V"); strings.Contains(v, "Malformed") || strings.Contains(v, "Expert Info (Error") {
		i := max(strings.Index(v, "Malformed"), strings.Index(v, "Expert Info (Error"))
		t.Fatalf("tshark reports an error:\n...%s", v[max(0, i-1500):min(len(v), i+300)])
	}
	out := tshark("-T", "fields", "-E", "separator=;", "-e", "frame.protocols", "-e", "icmpv6.type",
		"-e", "icmpv6.code", "-e", "mqttsn.msg.type")
	lines := strings.Split(strings.TrimSpace(out), "\n")

	// Classify the same frames with the sim's counter.
	r, err := pcap.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var a airFrames
	seen := map[uint8]int{}
	mqttsnTypes := map[string]bool{}
	for i := 0; ; i++ {
		_, frame, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			if i != len(lines) {
				t.Fatalf("%d frames in the pcap, tshark listed %d", i, len(lines))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got := a.classify(frame)
		f := strings.Split(lines[i], ";")
		if len(f) != 4 {
			t.Fatalf("tshark line %q", lines[i])
		}
		protos, icmpType, icmpCode, msgType := f[0], f[1], f[2], f[3]
		want, known := uint8(0), true
		switch {
		case strings.HasSuffix(protos, ":icmpv6") && icmpType == "155":
			code, _ := strconv.Atoi(icmpCode)
			want = [4]uint8{frameDIS, frameDIO, frameDAO, frameDAOACK}[code&3]
		case strings.HasSuffix(protos, ":mqttsn"):
			mqttsnTypes[msgType] = true
			n, _ := strconv.ParseUint(strings.TrimPrefix(msgType, "0x"), 16, 8)
			switch {
			case n == 0x0c:
				want = frameData
			case n >= 0xa0 && n <= 0xa5:
				want = frameTS
			default:
				want = frameMQTTSN
			}
		default:
			known = false // an acknowledgement or a fragment: the counter infers those
		}
		if known {
			if got != want {
				t.Errorf("frame %d (%s): counter says %s, tshark %s", i+1, lines[i], frameClassNames[got], frameClassNames[want])
			}
			seen[got]++
		}
	}
	for _, c := range []uint8{frameDIS, frameDIO, frameDAO, frameDAOACK, frameData, frameMQTTSN, frameTS} {
		if seen[c] == 0 {
			t.Errorf("no %s frame in the capture (seen %v)", frameClassNames[c], seen)
		}
	}
	for _, typ := range []string{"0x04", "0x0c", "0xa0"} { // CONNECT, PUBLISH, TS-CHALLENGE
		if !mqttsnTypes[typ] {
			t.Errorf("tshark saw no MQTT-SN message of type %s (saw %v)", typ, mqttsnTypes)
		}
	}
	// The summary counted the frames up to the scenario's end; the
	// capture goes on to the last frame.
	if o := sum.Overhead; o.Source != "frames" || o.Frames == 0 || o.Frames > uint64(len(lines)) || o.RPLOctets == 0 {
		t.Errorf("overhead %+v with %d frames captured", o, len(lines))
	}
}
