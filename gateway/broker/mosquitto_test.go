package broker

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// mosquitto is a real mosquitto broker on a free loopback port, started and
// stopped by the test.
type mosquitto struct {
	t    *testing.T
	bin  string
	conf string
	addr string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and its output is read
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func startMosquitto(t *testing.T, persist bool) *mosquitto {
	t.Helper()
	bin := testutil.NeedTool(t, "mosquitto")
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`listener %s 127.0.0.1
allow_anonymous true
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
persistence %v
persistence_location %s/
autosave_interval 0
max_queued_messages 100000
user %s
`, port, persist, dir, u.Username)
	m := &mosquitto{t: t, bin: bin, conf: filepath.Join(dir, "mosquitto.conf"), addr: addr}
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(m.stop)
	return m
}

// start runs mosquitto and returns once it logs that it is running.
func (m *mosquitto) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	out, err := m.cmd.StderrPipe() // stderr: unbuffered, unlike a piped stdout
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	running := make(chan struct{})
	m.done = make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			if seen {
				continue
			}
			select {
			case lines <- sc.Text():
			default:
			}
			if strings.HasSuffix(sc.Text(), " running") {
				seen = true
				close(running)
			}
		}
		m.cmd.Wait()
	}()
	startLog := func() string {
		var b strings.Builder
		for {
			select {
			case l := <-lines:
				b.WriteString(l + "\n")
			default:
				return b.String()
			}
		}
	}
	select {
	case <-running:
	case <-m.done:
		m.t.Fatalf("mosquitto exited at start:\n%s", startLog())
	case <-time.After(waitFor):
		m.t.Fatalf("mosquitto did not start:\n%s", startLog())
	}
	// It said it is running; make sure the port answers.
	c, err := net.DialTimeout("tcp", m.addr, waitFor)
	if err != nil {
		m.t.Fatal(err)
	}
	c.Close()
}

// stop terminates mosquitto gracefully (SIGTERM: it saves its persistence
// database) and waits for it to exit.
func (m *mosquitto) stop() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(waitFor):
		m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd = nil
}

func TestMosquittoConformance(t *testing.T) {
	testutil.NeedTool(t, "mosquitto")
	for _, mode := range []Mode{Aggregating, Transparent} {
		t.Run(mode.String(), func(t *testing.T) {
			runConformance(t, func(t *testing.T) harness {
				m := startMosquitto(t, false)
				e, rec, _ := newTestExternal(t, m.addr, mode, nil)
				return harness{b: e, rec: rec, addr: m.addr}
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
			watch := dialMQTT(t, m.addr, "watch", false)
			watch.subscribe(t, "vitals/#", 1)
			e, _, states := newTestExternal(t, m.addr, mode, nil)
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
			m.stop()
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
			m.start()
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
			watch2 := dialMQTT(t, m.addr, "watch", false)
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
