package ts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// restartChild is what the killed TS process reports before it dies.
type restartChild struct {
	NodePSS, NursePSS []byte
	Sender            uint16
	KeyID             uint32
	NotAfter          time.Time
	Envelope          []byte // sealed with the pre-crash key
}

const restartTopic = "ward/9/patient/9/spo2"

// serveTS runs a TS on 127.0.0.1:0 over the registry at path (real clock).
func serveTS(t testing.TB, path string) (addr net.Addr, reg *registry.Registry, stop func()) {
	reg, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(Config{Registry: reg, KeyLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc)
	started := make(chan struct{})
	srv.NotifyStarted = func(net.Addr) { close(started) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc) }()
	<-started
	return pc.LocalAddr(), reg, func() {
		cancel()
		<-done
		pc.Close()
		svc.Close()
		reg.Close()
	}
}

// TestReliabilityTSKill9 is docs/reliability.md's "TS restart" promise
// (trust/registry's TestKill9 covers the registry alone): a TS process that
// registered a node and a caregiver, granted access and issued a key over
// UDP is killed with SIGKILL; the restarted TS on the same file has the
// principals, the access list and the key with its epoch; the node gets a
// key again (a new id, never a reused one), and the caregiver reads both an
// envelope sealed before the crash and one sealed after it.
func TestReliabilityTSKill9(t *testing.T) {
	if path := os.Getenv("LSMQTT_TS_RESTART_CHILD"); path != "" {
		addr, reg, _ := serveTS(t, path)
		node, _ := reg.RegisterNode("z1-9", "patient-9")
		nurse, _ := reg.RegisterCaregiver("nurse-9")
		if err := reg.Grant("nurse-9", "patient-9"); err != nil {
			os.Exit(3)
		}
		c, err := tsclient.NewClient(tsclient.ClientConfig{TS: addr})
		if err != nil {
			os.Exit(3)
		}
		s, err := tsclient.NewSession(tsclient.SessionConfig{Creds: &tsclient.Credentials{Name: node.Name,
			Kind: string(node.Kind), PSS: bytes.Clone(node.PSS), Sender: node.Sender, Group: node.Group}, Exchanger: c})
		if err != nil {
			os.Exit(3)
		}
		env, err := s.Seal(context.Background(), nil, restartTopic, []byte("SpO2=97"))
		if err != nil {
			os.Exit(4)
		}
		k := s.Key()
		json.NewEncoder(os.Stdout).Encode(restartChild{NodePSS: node.PSS, NursePSS: nurse.PSS, Sender: node.Sender,
			KeyID: k.ID, NotAfter: k.NotAfter, Envelope: env})
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}

	path := filepath.Join(t.TempDir(), "ts.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReliabilityTSKill9$")
	cmd.Env = append(os.Environ(), "LSMQTT_TS_RESTART_CHILD="+path)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("TS child did not die of SIGKILL: %v", err)
	}
	var before restartChild
	if err := json.Unmarshal(out, &before); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}

	addr, reg, stop := serveTS(t, path)
	defer stop()
	node, err := reg.Get("z1-9")
	if err != nil || !bytes.Equal(node.PSS, before.NodePSS) || node.Group != "patient-9" ||
		node.Sender != before.Sender || node.Status != registry.StatusActive {
		t.Fatalf("node after kill -9: %+v %v", node, err)
	}
	nurse, err := reg.Get("nurse-9")
	if err != nil || !bytes.Equal(nurse.PSS, before.NursePSS) || !nurse.MayRead("patient-9") || nurse.MayRead("patient-8") {
		t.Fatalf("caregiver access list after kill -9: %+v %v", nurse, err)
	}
	k, err := reg.Key(before.KeyID)
	if err != nil || k.Owner != "z1-9" || k.Group != "patient-9" || !k.NotAfter.Equal(before.NotAfter) {
		t.Fatalf("key epoch after kill -9: %+v %v", k, err)
	}

	c, err := tsclient.NewClient(tsclient.ClientConfig{TS: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	s, err := tsclient.NewSession(tsclient.SessionConfig{Creds: &tsclient.Credentials{Name: "z1-9", Kind: "node",
		PSS: bytes.Clone(before.NodePSS), Sender: before.Sender, Group: "patient-9"}, Exchanger: c})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.Seal(ctx, nil, restartTopic, []byte("SpO2=96"))
	if err != nil {
		t.Fatalf("node gets no key from the restarted TS: %v", err)
	}
	if nk := s.Key(); nk.ID <= before.KeyID {
		t.Fatalf("restarted TS issued key id %d, not after the pre-crash %d", nk.ID, before.KeyID)
	}
	r, err := tsclient.NewReader(tsclient.ReaderConfig{Creds: &tsclient.Credentials{Name: "nurse-9", Kind: "caregiver",
		PSS: bytes.Clone(before.NursePSS)}, Exchanger: c})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, e := range []struct {
		env  []byte
		want string
	}{{before.Envelope, "SpO2=97"}, {after, "SpO2=96"}} {
		pt, _, err := r.Open(ctx, "patient-9", restartTopic, nil, e.env)
		if err != nil || string(pt) != e.want {
			t.Fatalf("caregiver after restart: %q %v, want %q", pt, err, e.want)
		}
	}
}
