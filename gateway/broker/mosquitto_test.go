package broker

import (
	"fmt"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// startMosquitto starts a real mosquitto broker on a free loopback port
// (testutil.Mosquitto), with persistence when persist, stopped at cleanup.
func startMosquitto(t *testing.T, persist bool) *testutil.MosquittoBroker {
	t.Helper()
	return testutil.Mosquitto(t, testutil.MosquittoOptions{Persistence: persist, MaxQueuedMessages: 100000, Wait: waitFor})
}

func TestMosquittoConformance(t *testing.T) {
	testutil.NeedTool(t, "mosquitto")
	for _, mode := range []Mode{Aggregating, Transparent} {
		t.Run(mode.String(), func(t *testing.T) {
			runConformance(t, func(t *testing.T) harness {
				m := startMosquitto(t, false)
				e, rec, _ := newTestExternal(t, m.Addr(), mode, nil)
				return harness{b: e, rec: rec, addr: m.Addr()}
			})
		})
	}
}

// TestMosquittoRestartNoLoss kills mosquitto in the middle of a stream of
// QoS 1 publishes, keeps publishing into the adapter's queue while it is down,
// restarts it on the same port, and checks that a subscriber gets every
// message the adapter accepted.
func TestMosquittoRestartNoLoss(t *testing.T) {
	testutil.NeedTool(t, "mosquitto")
	for _, mode := range []Mode{Aggregating, Transparent} {
		t.Run(mode.String(), func(t *testing.T) {
			m := startMosquitto(t, true)
			// The watcher keeps a persistent session, so that mosquitto stores
			// what arrives while the watcher itself is reconnecting.
			watch := dialMQTT(t, m.Addr(), "watch", false)
			watch.subscribe(t, "vitals/#", 1)
			e, _, states := newTestExternal(t, m.Addr(), mode, nil)
			ctx := testCtx(t)
			if err := e.Attach(ctx, "sn", true); err != nil {
				t.Fatal(err)
			}

			const n = 300
			accepted := make(chan int, n)
			pubErr := make(chan error, 1)
			go func() {
				defer close(accepted)
				for i := range n {
					err := e.Publish(ctx, "sn", Message{Topic: fmt.Sprintf("vitals/%d", i), Payload: fmt.Appendf(nil, "%d", i), QoS: 1})
					if err != nil {
						pubErr <- fmt.Errorf("message %d: %w", i, err)
						return
					}
					accepted <- i
				}
			}()

			got := map[string]bool{}
			for len(got) < 20 { // the stream is flowing
				got[string(watch.next(t).Payload)] = true
			}
			m.Stop()
			states.until(t, StateConnecting)
			var acc []int
			for range 50 { // 50 more accepted while the broker is down
				i, ok := <-accepted
				if !ok {
					t.Fatal(<-pubErr)
				}
				acc = append(acc, i)
			}
			if q := e.Stats().Queued; q == 0 {
				t.Fatal("nothing queued during the outage")
			}
			m.Start()
			for i := range accepted {
				acc = append(acc, i)
			}
			select {
			case err := <-pubErr:
				t.Fatal(err)
			default:
			}
			if len(acc) < 50 {
				t.Fatalf("accepted %d", len(acc))
			}
			// Every message accepted before the kill was acknowledged by
			// mosquitto, so all n must reach the watcher.
			watch2 := dialMQTT(t, m.Addr(), "watch", false)
			for len(got) < n {
				select {
				case p := <-watch2.recv:
					got[string(p.Payload)] = true
				case p := <-watch.recv: // delivered just before the kill
					got[string(p.Payload)] = true
				case <-time.After(waitFor):
					var missing []int
					for i := range n {
						if !got[fmt.Sprint(i)] {
							missing = append(missing, i)
						}
					}
					t.Fatalf("%d of %d accepted messages lost across the restart: %v (stats %+v)", len(missing), n, missing, e.Stats())
				}
			}
			if st := e.Stats(); st.Reconnects == 0 || st.Dropped != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
