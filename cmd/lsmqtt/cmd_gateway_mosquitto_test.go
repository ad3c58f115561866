package main

import (
	"bufio"
	"context"
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
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// testMosquitto is a real mosquitto on a free loopback port (persistence on),
// which the test can stop and start again on the same port.
type testMosquitto struct {
	t         *testing.T
	bin, conf string
	addr      string
	cmd       *exec.Cmd
	exited    chan struct{}
}

func newTestMosquitto(t *testing.T) *testMosquitto {
	t.Helper()
	bin := testutil.NeedTool(t, "mosquitto")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := &testMosquitto{t: t, bin: bin, conf: filepath.Join(dir, "m.conf"), addr: addr}
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type notice\nlog_type information\n"+
		"persistence true\npersistence_location %s/\nautosave_interval 0\nuser %s\n", port, dir, u.Username)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(m.stop)
	return m
}

// start runs mosquitto and waits for its "running" log line (stderr is not
// buffered), then for its port to answer.
func (m *testMosquitto) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	out, err := m.cmd.StderrPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	running, exited := make(chan struct{}), make(chan struct{})
	m.exited = exited
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for seen := false; sc.Scan(); {
			if !seen && strings.HasSuffix(sc.Text(), " running") {
				seen = true
				close(running)
			}
		}
		m.cmd.Wait()
	}()
	select {
	case <-running:
	case <-exited:
		m.t.Fatal("mosquitto exited at start")
	case <-time.After(gwWait):
		m.t.Fatal("mosquitto did not start")
	}
	c, err := net.DialTimeout("tcp", m.addr, gwWait)
	if err != nil {
		m.t.Fatal(err)
	}
	c.Close()
}

// stop sends SIGTERM (mosquitto saves its database) and waits for the exit.
func (m *testMosquitto) stop() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	<-m.exited
	m.cmd = nil
}

// TestGatewayCommandMosquittoRestart: an MQTT-SN sensor publishes QoS 1
// through `lsmqtt gateway --broker mqtt://…` while mosquitto is stopped and
// started again; every message the gateway acknowledged reaches an MQTT
// subscriber.
func TestGatewayCommandMosquittoRestart(t *testing.T) {
	m := newTestMosquitto(t)
	// The subscriber keeps a persistent session so mosquitto stores what
	// arrives while it reconnects.
	watchConn := func() chan string {
		got := make(chan string, 100)
		_, ch := mqttWatchSession(t, m.addr, "e2e/#")
		go func() {
			for p := range ch {
				got <- string(p.Payload)
			}
		}()
		return got
	}
	got := watchConn()
	info := startGatewayCmd(t, "--listen", "127.0.0.1:0", "--broker", "mqtt://"+m.addr, "--metrics", "127.0.0.1:0")
	sn := snClient(t, info.UDP[0], "sensor-7", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 4*gwWait)
	defer cancel()
	publish := func(i int) {
		t.Helper()
		if err := sn.Publish(ctx, client.Named("e2e/hr"), mqttsn.QoS1, false, []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for i := range 10 {
		publish(i)
	}
	for len(seen) < 10 {
		select {
		case p := <-got:
			seen[p] = true
		case <-time.After(gwWait):
			t.Fatalf("before the restart the subscriber got %d of 10", len(seen))
		}
	}
	m.stop()
	for i := 10; i < 30; i++ { // acknowledged by the gateway while mosquitto is down
		publish(i)
	}
	m.start()
	got2 := watchConn()
	for len(seen) < 30 {
		select {
		case p := <-got2:
			seen[p] = true
		case <-time.After(gwWait):
			t.Fatalf("after the restart the subscriber has %d of 30 acknowledged messages: %v", len(seen), seen)
		}
	}
}
