package pcap

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// vector07 is the MAC header and payload of
// /work/shared/vectors/lowpan-rpl/07 (copied into ../ieee802154/testdata):
// an IPHC-compressed RPL DIO whose ICMPv6 checksum is valid. The vector has
// no FCS; the writer adds a correct one.
const vector07 = "41c874cdabffffcf0da4feff6e95e47a3b3a1a9b01d45e1edc02ba957f00000001000000000000e6956efffeaffffd081e40400000000000000000000000000001000000000000000000000000000003168010ffffffff0001000000000000e6956efffea4054f"

func testFrames(t *testing.T) [][]byte {
	t.Helper()
	raw, _ := hex.DecodeString(vector07)
	f, _, err := ieee802154.DecodeNoFCS(raw)
	if err != nil {
		t.Fatal(err)
	}
	dio, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	ack := ieee802154.AckFrame(0x74, false)
	ackb, _ := ack.AppendBinary(nil)
	bcn := ieee802154.Frame{Type: ieee802154.TypeBeacon, Seq: 1, SrcPAN: 0xabcd, Src: ieee802154.Short(0),
		Payload: []byte{0xff, 0xcf, 0x00, 0x00}}
	bcnb, _ := bcn.AppendBinary(nil)
	return [][]byte{dio, ackb, bcnb}
}

// tshark runs tshark on path with args and returns its standard output.
func tshark(t *testing.T, path string, args ...string) string {
	t.Helper()
	bin := testutil.NeedTool(t, "tshark")
	cmd := exec.Command(bin, append([]string{"-n", "-r", path}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, errb.String())
	}
	return out.String()
}

// checkClean fails on any sign of a malformed packet or bad checksum in
// tshark's verbose output.
func checkClean(t *testing.T, verbose string) {
	t.Helper()
	for _, bad := range []string{"Malformed", "Bad FCS", "FCS Bad", "[Checksum Status: Bad]", "incorrect", "Expert Info (Error", "Expert Info (Warning"} {
		if strings.Contains(verbose, bad) {
			t.Errorf("tshark output contains %q:\n%s", bad, verbose)
		}
	}
}

func TestTsharkIEEE802154WithFCS(t *testing.T) {
	testutil.NeedTool(t, "tshark")
	path := filepath.Join(t.TempDir(), "wpan.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(fh, LinkTypeIEEE802154WithFCS, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, fr := range testFrames(t) {
		if err := w.WritePacket(ts.Add(time.Duration(i)*time.Millisecond), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	checkClean(t, tshark(t, path, "-V"))
	protos := tshark(t, path, "-T", "fields", "-e", "frame.protocols", "-e", "wpan.fcs_ok", "-e", "icmpv6.checksum.status")
	lines := strings.Split(strings.TrimSpace(protos), "\n")
	if len(lines) != 3 {
		t.Fatalf("tshark saw %d packets:\n%s", len(lines), protos)
	}
	if !strings.Contains(lines[0], "wpan:6lowpan:ipv6:icmpv6") || !strings.HasSuffix(lines[0], "\t1\t1") {
		t.Errorf("DIO frame: %q, want wpan:6lowpan:ipv6:icmpv6 with good FCS and checksum", lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "wpan") || !strings.Contains(l, "\t1") {
			t.Errorf("frame: %q, want wpan with good FCS", l)
		}
	}
}

func TestTsharkZEPOverIPv4(t *testing.T) {
	testutil.NeedTool(t, "tshark")
	path := filepath.Join(t.TempDir(), "zep.pcap")
	var buf bytes.Buffer
	w, err := NewWriter(&buf, LinkTypeIPv4, WriterOptions{Nanosecond: true})
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), zep.DefaultPort)
	ts := time.Unix(1700000000, 123456789)
	for i, fr := range testFrames(t) {
		p := zep.Packet{Type: zep.TypeData, Channel: 26, DeviceID: uint16(i), CRCMode: true,
			NTP: zep.NTPTime(ts), Seq: uint32(i), Frame: fr}
		z, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		ip, err := AppendIPv4UDP(nil, src, dst, z)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ts, ip); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	checkClean(t, tshark(t, path, "-V", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"))
	out := tshark(t, path, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-T", "fields", "-e", "frame.protocols", "-e", "zep.channel_id", "-e", "wpan.fcs_ok", "-e", "udp.checksum.status", "-e", "ip.checksum.status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("tshark saw %d packets:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "ip:udp:zep:wpan:6lowpan:ipv6:icmpv6\t26\t1\t1\t1") {
		t.Errorf("ZEP DIO: %q", lines[0])
	}
}

// TestTsharkSeesBadFCS proves the checks above can fail: a frame with a
// flipped FCS bit must be reported.
func TestTsharkSeesBadFCS(t *testing.T) {
	testutil.NeedTool(t, "tshark")
	path := filepath.Join(t.TempDir(), "bad.pcap")
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkTypeIEEE802154WithFCS, WriterOptions{})
	fr := bytes.Clone(testFrames(t)[0])
	fr[len(fr)-1] ^= 1
	if err := w.WritePacket(time.Unix(1, 0), fr); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := tshark(t, path, "-V"); !strings.Contains(out, "Bad FCS") {
		t.Fatalf("tshark did not flag a bad FCS:\n%s", out)
	}
}
