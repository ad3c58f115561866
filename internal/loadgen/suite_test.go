package loadgen

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestRunSuiteAgainstFreshTargets(t *testing.T) {
	started, stopped := 0, 0
	start := func(context.Context) (Target, error) {
		started++
		if started == 3 {
			return Target{}, errors.New("target failed to start")
		}
		g := startFakeGW(t, nil)
		return Target{Gateway: g.addr(), Stop: func() { stopped++ }}, nil
	}
	scs := []Scenario{
		{Name: "q1", Config: Config{Clients: 2, QoS: 1, Count: 40}},
		{Name: "burst", Burst: true, Config: Config{Clients: 50, QoS: 0, Count: 50, TopicType: mqttsn.TopicIDShort, Topic: "lb"}},
		{Name: "broken", Config: Config{Clients: 1, Count: 1}},
	}
	sr, err := RunSuite(context.Background(), scs, start, RawConfig{Senders: 2, Duration: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if started != 3 || stopped != 2 || len(sr.Rows) != 3 {
		t.Fatalf("started %d stopped %d rows %d, want 3 2 3", started, stopped, len(sr.Rows))
	}
	if r := sr.Rows[0].Result; r == nil || r.Publish.Acked != 40 || r.Ratios == nil || r.Raw != sr.Raw || r.Ratios.CeilingPerSec != sr.Raw.ReceivedPerSec {
		t.Fatalf("row q1: %+v", sr.Rows[0])
	}
	if r := sr.Rows[1].Result; r == nil || r.Connect.Accepted != 50 || r.Publish.Sent != 50 {
		t.Fatalf("row burst: %+v", sr.Rows[1])
	}
	if sr.Rows[2].Err == "" || sr.Rows[2].Result != nil {
		t.Fatalf("row broken: %+v", sr.Rows[2])
	}
	if sr.Raw.Size != scs[0].Config.DatagramSize() {
		t.Fatalf("raw size %d, want the scenarios' datagram size %d", sr.Raw.Size, scs[0].Config.DatagramSize())
	}
	var buf bytes.Buffer
	if err := sr.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{"raw UDP ceiling", "| q1 | 2 | 1 | unpaced | ", "| burst | 50 | 0 | — |", "| broken |", "target failed to start"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestStandardSuiteShape(t *testing.T) {
	scs := StandardSuite(time.Second)
	if len(scs) != 5 {
		t.Fatalf("%d scenarios", len(scs))
	}
	size := scs[0].Config.DatagramSize()
	for _, sc := range scs {
		c := sc.Config
		c.Gateway = "127.0.0.1:1"
		if err := c.fill(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
		if c.DatagramSize() != size {
			t.Errorf("%s: datagram %d B, the raw ceiling uses %d B", sc.Name, c.DatagramSize(), size)
		}
	}
}
