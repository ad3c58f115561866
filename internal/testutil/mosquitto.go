package testutil

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MosquittoOptions configure a test mosquitto.
type MosquittoOptions struct {
	// Persistence keeps mosquitto's database in the test's temporary
	// directory (written at a graceful stop, autosave off), so that
	// persistent sessions and their queued messages survive Stop and Start.
	Persistence bool
	// MaxQueuedMessages is max_queued_messages, the messages queued per
	// persistent client (0: mosquitto's default, 1000).
	MaxQueuedMessages int
	// Wait bounds the wait for start and for a graceful stop (a failure
	// bound, not a delay). Default 30 s.
	Wait time.Duration
}

// MosquittoBroker is a mosquitto process on a free loopback TCP port, which
// a test may stop, kill and start again on the same port.
type MosquittoBroker struct {
	t    testing.TB
	bin  string
	conf string
	addr string
	wait time.Duration

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and its output is read
}

// Mosquitto starts a mosquitto broker for t (NeedTool: skipped loudly
// outside CI when mosquitto is not installed) and returns once it accepts
// connections. It is stopped at the end of the test.
func Mosquitto(t testing.TB, opts MosquittoOptions) *MosquittoBroker {
	t.Helper()
	bin := NeedTool(t, "mosquitto")
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // mosquitto binds it next; a port taken meanwhile fails the start loudly
	_, port, _ := net.SplitHostPort(addr)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "listener %s 127.0.0.1\nallow_anonymous true\n", port)
	b.WriteString("log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n")
	if opts.Persistence {
		fmt.Fprintf(&b, "persistence true\npersistence_location %s/\nautosave_interval 0\n", dir)
	} else {
		b.WriteString("persistence false\n")
	}
	if opts.MaxQueuedMessages > 0 {
		fmt.Fprintf(&b, "max_queued_messages %d\n", opts.MaxQueuedMessages)
	}
	// mosquitto started as root drops to user "mosquitto" unless told
	// otherwise; it must be able to write the test's directory.
	fmt.Fprintf(&b, "user %s\n", u.Username)
	m := &MosquittoBroker{t: t, bin: bin, conf: filepath.Join(dir, "mosquitto.conf"), addr: addr, wait: opts.Wait}
	if err := os.WriteFile(m.conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Addr is the broker's host:port.
func (m *MosquittoBroker) Addr() string { return m.addr }

// Start runs mosquitto (again, on the same port and configuration) and
// returns once it logged that it is running and its port answers.
func (m *MosquittoBroker) Start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "-c", m.conf)
	out, err := cmd.StderrPipe() // stderr: unbuffered, unlike a piped stdout
	if err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	running, done := make(chan struct{}), make(chan struct{})
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	lines := make(chan string, 100)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			if seen {
				continue // keep reading: a full pipe would block mosquitto
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
		_ = cmd.Wait()
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
	case <-done:
		m.t.Fatalf("mosquitto exited at start:\n%s", startLog())
	case <-time.After(m.wait):
		m.t.Fatalf("mosquitto did not start:\n%s", startLog())
	}
	c, err := net.DialTimeout("tcp", m.addr, m.wait)
	if err != nil {
		m.t.Fatal(err)
	}
	c.Close()
}

// Stop terminates mosquitto gracefully (SIGTERM: it saves its persistence
// database) and waits for it to exit; if it has not within Wait, it is
// killed. Stopping a stopped broker does nothing.
func (m *MosquittoBroker) Stop() { m.signal(syscall.SIGTERM) }

// Kill kills mosquitto (SIGKILL: nothing is saved) and waits for the exit.
func (m *MosquittoBroker) Kill() { m.signal(syscall.SIGKILL) }

func (m *MosquittoBroker) signal(sig syscall.Signal) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	deadline := time.After(m.wait)
	nudge := time.NewTicker(100 * time.Millisecond)
	defer nudge.Stop()
	for {
		select {
		case <-done:
			return
		case <-nudge.C:
			// mosquitto 2.0 sometimes takes a SIGTERM that arrives soon
			// after its start without leaving its event loop (seen: a
			// process restarted right after a SIGKILL, asleep in
			// epoll_wait with nothing pending). Say it again.
			_ = cmd.Process.Signal(sig)
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			return
		}
	}
}
