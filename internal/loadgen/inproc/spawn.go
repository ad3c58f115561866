package inproc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/loadgen"
)

// readyPrefix starts the line a served instance prints once it is ready.
const readyPrefix = "LSMQTT-BENCH-READY"

// Announce prints the line Spawn waits for.
func (in *Instance) Announce(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s gateway=%s broker=%s\n", readyPrefix, in.Addr(), in.BrokerURL())
	return err
}

// Spawn runs exe with args as a child process that starts an Instance and
// Announces it (`lsmqtt bench --serve-embedded`), and returns it as a
// Target whose Stop ends the child. A gateway in its own process shares the
// CPUs with the load generator through the OS scheduler rather than through
// one Go scheduler, as a deployed gateway would.
func Spawn(ctx context.Context, exe string, args ...string) (loadgen.Target, error) {
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return loadgen.Target{}, err
	}
	if err := cmd.Start(); err != nil {
		return loadgen.Target{}, fmt.Errorf("inproc: spawn %s: %w", exe, err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = cmd.Process.Kill()
			<-done
		}
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), readyPrefix) {
				lines <- sc.Text()
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
		close(lines)
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	var line string
	select {
	case l, ok := <-lines:
		if !ok {
			stop()
			return loadgen.Target{}, fmt.Errorf("inproc: %s exited without announcing", exe)
		}
		line = l
	case <-t.C:
		stop()
		return loadgen.Target{}, fmt.Errorf("inproc: %s did not announce within 30 s", exe)
	case <-ctx.Done():
		stop()
		return loadgen.Target{}, ctx.Err()
	}
	pid := cmd.Process.Pid
	tg := loadgen.Target{Stop: stop, Stats: func() loadgen.GatewayStats {
		return loadgen.GatewayStats{CPU: processCPU(pid)} // its counters are not readable from here
	}}
	for _, f := range strings.Fields(line)[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "gateway":
			tg.Gateway = v
		case "broker":
			tg.Broker = v
		}
	}
	if tg.Gateway == "" {
		stop()
		return loadgen.Target{}, fmt.Errorf("inproc: bad announcement %q", line)
	}
	return tg, nil
}
