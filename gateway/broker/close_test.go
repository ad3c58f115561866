package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCloseWhileClientsChurn: Close returns while MQTT-SN clients keep
// attaching and detaching (each adds itself to or removes itself from
// mochi's client list). mochi v2.7.9's own Close takes that list's read
// lock twice in a row (Clients.GetByListener calls Len), and a writer
// arriving in between waits for the write lock while blocking the second
// read lock: all of them then wait for ever (a benchmark's cleanup hung for
// 12 minutes with a TCP client leaving at that moment). The window is a few
// instructions wide, so this test rarely caught the bug; it guards the fix.
func TestCloseWhileClientsChurn(t *testing.T) {
	for round := range 20 {
		e, err := NewEmbedded(EmbeddedConfig{TCPAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("churn-%d", w)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := e.Attach(ctx, id, true); errors.Is(err, ErrClosed) {
						return
					}
					_ = e.Detach(ctx, id)
				}
			}()
		}
		closed := make(chan error, 1)
		go func() { closed <- e.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("round %d: Close: %v", round, err)
			}
		case <-time.After(4 * waitFor): // only turns a hang into a failure
			t.Fatalf("round %d: Close did not return while clients attached and detached", round)
		}
		close(stop)
		wg.Wait()
	}
}
