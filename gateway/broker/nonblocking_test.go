package broker

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// wrapped hides the capabilities of the Broker it embeds, as a metrics or
// fault-injection wrapper does.
type wrapped struct{ Broker }

func TestPublishNeverBlocks(t *testing.T) {
	e, err := NewEmbedded(EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct {
		name string
		b    Broker
		want bool
	}{
		{"embedded", e, true},
		{"external", &External{}, false}, // waits for the remote broker's PUBACK
		{"wrapper hides it", wrapped{e}, false},
	} {
		if got := PublishNeverBlocks(tc.b); got != tc.want {
			t.Errorf("%s: PublishNeverBlocks = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSNClientAttachCost: attaching an MQTT-SN client allocates a few KiB,
// not the outbound queue mochi gives a TCP client (MaxPendingWrites packet
// pointers: 64 KiB at the default, 8 KiB at the 1,024 this adapter used to
// ask for), which an MQTT-SN client never uses.
func TestSNClientAttachCost(t *testing.T) {
	if testutil.RaceEnabled {
		t.Skip("allocation sizes are not meaningful under -race")
	}
	e, err := NewEmbedded(EmbeddedConfig{MaxPendingWrites: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 1000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("sn-%04d", i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		if err := e.Attach(context.Background(), id, true); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d B allocated per Attach", per)
	if per >= 6<<10 {
		t.Errorf("Attach allocated %d B per MQTT-SN client, want < 6 KiB (no outbound queue)", per)
	}
	if got := e.Stats().Clients; got != n {
		t.Errorf("%d clients attached, want %d", got, n)
	}
}
