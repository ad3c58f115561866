package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/loadgen"
)

func TestBenchEmbeddedJSON(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	// The wall-clock limits are generous (a loaded CI host under -race can
	// stall the subscriber or an ack for seconds); a healthy run ends as
	// soon as all 40 are acknowledged and delivered.
	err := app.Run([]string{"lsmqtt", "--log-level", "warn", "bench", "--embedded", "-n", "2", "-q", "1", "-c", "40", "--json",
		"--connect-timeout", "60s", "--retry-timeout", "10s", "--drain", "60s"})
	if err != nil {
		t.Fatal(err)
	}
	var res loadgen.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if res.Publish.Acked != 40 || res.Publish.Delivered != 40 || !strings.HasPrefix(res.Publish.Subscriber, "mqtt://") {
		t.Fatalf("acked %d delivered %d via %q, want 40 40 via the embedded broker", res.Publish.Acked, res.Publish.Delivered, res.Publish.Subscriber)
	}
}

func TestBenchRawText(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"lsmqtt", "bench", "--raw", "-n", "2", "-c", "500", "--raw-rate", "20000"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "offered 500, sent 500") {
		t.Fatalf("raw output: %s", out.String())
	}
}

func TestBenchNeedsGateway(t *testing.T) {
	app := newApp()
	app.Writer = &bytes.Buffer{}
	if err := app.Run([]string{"lsmqtt", "bench", "-c", "1"}); err == nil || !strings.Contains(err.Error(), "--gateway") {
		t.Fatalf("err = %v, want a --gateway error", err)
	}
}
