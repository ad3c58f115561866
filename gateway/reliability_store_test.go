package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// buildLsmqtt builds the lsmqtt binary into a temporary directory.
func buildLsmqtt(t *testing.T) string {
	t.Helper()
	gobin := testutil.NeedTool(t, "go")
	bin := filepath.Join(t.TempDir(), "lsmqtt")
	cmd := exec.Command(gobin, "build", "-o", bin, "../cmd/lsmqtt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// gwProcess is an `lsmqtt gateway` process.
type gwProcess struct {
	cmd  *exec.Cmd
	addr *net.UDPAddr
	done chan struct{}
	log  *strings.Builder
	mu   *sync.Mutex
}

// startGatewayProcess runs `lsmqtt gateway` with args and returns once it
// logged the address it serves MQTT-SN on.
func startGatewayProcess(t *testing.T, bin string, args ...string) *gwProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--log-format", "json", "--log-level", "info", "gateway"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &gwProcess{cmd: cmd, done: make(chan struct{}), log: &strings.Builder{}, mu: &sync.Mutex{}}
	addrc := make(chan *net.UDPAddr, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct {
				Msg    string `json:"msg"`
				MQTTSN []struct {
					IP   string
					Port int
				} `json:"mqtt-sn"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gateway running" && len(rec.MQTTSN) > 0 {
				select {
				case addrc <- &net.UDPAddr{IP: net.ParseIP(rec.MQTTSN[0].IP), Port: rec.MQTTSN[0].Port}:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("gateway process exited at start:\n%s", p.logText())
	case <-time.After(relWait):
		cmd.Process.Kill()
		t.Fatalf("gateway process did not start:\n%s", p.logText())
	}
	t.Cleanup(func() { p.signal(syscall.SIGTERM) })
	return p
}

func (p *gwProcess) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *gwProcess) signal(sig syscall.Signal) {
	p.cmd.Process.Signal(sig)
	<-p.done
}

// TestReliabilityGatewayKill9 is docs/reliability.md's "durable gateway
// sessions" promise: an `lsmqtt gateway --state FILE` process in front of
// mosquitto is killed with SIGKILL in the middle of a QoS 1 stream from an
// MQTT-SN publisher to an MQTT-SN subscriber, and started again on the same
// address with the same file. Neither client connects again: the restarted
// gateway knows their addresses, topic ids and the subscriber's
// subscription, and every publish the gateway acknowledged reaches the
// subscriber (messages it had in flight to the subscriber are sent again
// from the file; those mosquitto kept for the gateway's persistent broker
// session meanwhile arrive after it).
//
// The control subtest runs the same without --state and requires the clients
// to be told to connect again: it shows the test can tell the difference.
func TestReliabilityGatewayKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lsmqtt and runs processes")
	}
	bin := buildLsmqtt(t)
	t.Run("state", func(t *testing.T) { testGatewayKill9(t, bin, true) })
	t.Run("control-without-state", func(t *testing.T) { testGatewayKill9(t, bin, false) })
}

func testGatewayKill9(t *testing.T, bin string, withState bool) {
	m := startRelMosquitto(t)
	args := []string{"--broker", "mqtt://" + m.Addr(), "--broker-client-id", "gw-kill9"}
	if withState {
		args = append(args, "--state", filepath.Join(t.TempDir(), "gateway.db"))
	}
	gw := startGatewayProcess(t, bin, append(args, "--listen", "127.0.0.1:0")...)
	addr := gw.addr

	ctx, cancel := context.WithTimeout(context.Background(), 4*relWait)
	defer cancel()
	var disconnects atomic.Int32
	onDisc := func(err error) { disconnects.Add(1) }
	// Tretry × Nretry outlasts the restart: the clients keep retrying
	// instead of giving the gateway up.
	ccfg := func(id string) client.Config {
		return client.Config{ClientID: id, RetryInterval: 300 * time.Millisecond, MaxRetries: 100,
			KeepAlive: time.Minute, OnDisconnect: onDisc}
	}
	got := newPayloadSet()
	scfg := ccfg("nurse-kill9")
	scfg.OnPublish = func(m client.Message) { got.add(string(m.Data)) }
	sub := snClient(t, addr, scfg)
	if _, err := sub.Subscribe(ctx, client.Named("vitals/#"), mqttsn.QoS1); err != nil {
		t.Fatal(err)
	}
	pub := snClient(t, addr, ccfg("z1-kill9"))

	const n, killAt = 150, 50
	// The publisher streams on its own goroutine; the gateway is killed
	// while it does, so a publish is in flight or about to be.
	acc := make(chan string, n)
	pubErr := make(chan error, 1)
	go func() {
		defer close(acc)
		for i := 0; i < n; i++ {
			payload := fmt.Sprintf("spo2-%03d", i)
			if err := pub.Publish(ctx, client.Named("vitals/z1-kill9/spo2"), mqttsn.QoS1, false, []byte(payload)); err != nil {
				pubErr <- fmt.Errorf("publish %d: %w", i, err)
				return
			}
			acc <- payload
		}
	}()
	var accepted []string
	for p := range acc {
		accepted = append(accepted, p)
		if len(accepted) == killAt {
			gw.signal(syscall.SIGKILL)
			gw = startGatewayProcess(t, bin, append(args, "--listen", addr.String())...)
		}
	}
	if !withState {
		select {
		case err := <-pubErr:
			t.Logf("without --state: %v", err)
			return
		default:
		}
		if disconnects.Load() == 0 {
			t.Fatal("without --state the clients carried on too: the test cannot tell")
		}
		return
	}
	select {
	case err := <-pubErr:
		t.Fatalf("%v\nrestarted gateway log:\n%s", err, gw.logText())
	default:
	}
	if missing := got.waitAll(accepted, relWait); len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged messages never reached the subscriber: %v\nrestarted gateway log:\n%s",
			len(missing), len(accepted), missing, gw.logText())
	}
	if d := disconnects.Load(); d != 0 || pub.State() != client.StateActive || sub.State() != client.StateActive {
		t.Fatalf("clients did not carry on: %d disconnects, publisher %v, subscriber %v", d, pub.State(), sub.State())
	}
	if !strings.Contains(gw.logText(), "session restored") {
		t.Fatalf("restarted gateway restored no session:\n%s", gw.logText())
	}
	distinct, dups := got.counts()
	ps, ss := pub.Stats(), sub.Stats()
	t.Logf("gateway SIGKILLed after %d of %d QoS 1 publishes and restarted with its --state file: %d acknowledged, %d distinct at the subscriber "+
		"(%d duplicates), 0 reconnects; publisher retransmissions %d, subscriber duplicates dropped %d",
		killAt, n, len(accepted), distinct, dups, ps.Retransmissions, ss.Duplicates)
}
