package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
)

func TestMediumCommand(t *testing.T) {
	dir := t.TempDir()
	topo := filepath.Join(dir, "topo.json")
	os.WriteFile(topo, []byte(`{"nodes":[{"addr":"02:00:00:00:00:00:00:01","x":0,"y":0},
		{"addr":"02:00:00:00:00:00:00:02","x":10,"y":0}]}`), 0o600)
	capPath := filepath.Join(dir, "run.pcap")
	addrCh := make(chan net.Addr, 1)
	mediumStarted = func(a net.Addr) { addrCh <- a }
	defer func() { mediumStarted = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	done := make(chan error, 1)
	go func() {
		done <- app.RunContext(ctx, []string{"lsmqtt", "--log-level", "error", "medium", "--listen", "127.0.0.1:0",
			"--topology", topo, "--pcap", capPath, "--pcap-format", "zep", "--json", "--seed", "3"})
	}()
	maddr := (<-addrCh).(*net.UDPAddr)

	got := make(chan string, 4)
	var radios []*medium.ZEPRadio
	for i := 1; i <= 2; i++ {
		r, err := medium.DialZEP(medium.ZEPRadioConfig{Medium: maddr, DeviceID: uint16(i)})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.SetReceiver(func(psdu []byte, _ medium.RxInfo) {
			if f, _, err := ieee802154.Decode(psdu); err == nil {
				got <- string(f.Payload)
			}
		})
		radios = append(radios, r)
	}
	frame := func(n byte, payload string) []byte {
		f := ieee802154.DataFrame(n, 0xabcd, ieee802154.Broadcast,
			ieee802154.Ext(ieee802154.ExtAddr{2, 0, 0, 0, 0, 0, 0, n}), []byte(payload), false)
		b, _ := f.AppendBinary(nil)
		return b
	}
	radios[1].Transmit(frame(2, "hello")) // binds node 2's address
	radios[0].Transmit(frame(1, "from 1"))
	if s := <-got; s != "from 1" {
		t.Fatalf("node 2 got %q", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var rep medium.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if rep.Frames != 2 || len(rep.Links) == 0 {
		t.Fatalf("report %+v", rep)
	}
	f, err := os.Open(capPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil || r.LinkType() != pcap.LinkTypeIPv4 {
		t.Fatalf("pcap: %v, link type %v", err, r.LinkType())
	}
	n := 0
	for {
		if _, _, err := r.ReadPacket(); err != nil {
			break
		}
		n++
	}
	if n != 2 {
		t.Fatalf("pcap holds %d frames, want 2", n)
	}
}

func TestMediumCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"medium", "--listen", "127.0.0.1:0", "--model", "mesh"},
		{"medium", "--listen", "127.0.0.1:0", "--pcap", filepath.Join(t.TempDir(), "x"), "--pcap-format", "pcapng"},
		{"medium", "--listen", "127.0.0.1:0", "--topology", filepath.Join(t.TempDir(), "missing.json")},
	} {
		app := newApp()
		app.Writer = &bytes.Buffer{}
		if err := app.RunContext(context.Background(), append([]string{"lsmqtt", "--log-level", "error"}, args...)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
