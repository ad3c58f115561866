package registry

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func open(t *testing.T, path string, c clock.Clock) *Registry {
	t.Helper()
	r, err := Open(path, Options{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

var ascon, _ = aead.Lookup(aead.NameAscon128, aead.Options{})

func TestRegistry(t *testing.T) {
	clk := clock.NewVirtual(t0)
	path := filepath.Join(t.TempDir(), "ts.db")
	r := open(t, path, clk)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("registry file mode %v (%v), want 0600", fi.Mode(), err)
	}
	n1, err := r.RegisterNode("z1-1", "patient-17")
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := r.RegisterNode("z1-2", "patient-18")
	if n1.Sender != 1 || n2.Sender != 2 || len(n1.PSS) != 16 || bytes.Equal(n1.PSS, n2.PSS) ||
		bytes.Equal(n1.PSS, make([]byte, 16)) {
		t.Fatalf("nodes %+v %+v", n1, n2)
	}
	if _, err := r.RegisterNode("z1-1", "patient-17"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range [][2]string{{"", "g"}, {"a/b", "g"}, {"ok", "g#"}, {"this-name-is-far-too-long-for-mqtt-sn", "g"}} {
		if _, err := r.RegisterNode(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	c, _ := r.RegisterCaregiver("dr-who")
	if c.Sender != 0 || c.Kind != KindCaregiver {
		t.Fatalf("caregiver %+v", c)
	}
	if err := r.Grant("dr-who", "patient-17"); err != nil {
		t.Fatal(err)
	}
	if err := r.Grant("z1-1", "patient-17"); !errors.Is(err, ErrKind) {
		t.Fatalf("grant to node: %v", err)
	}
	got, _ := r.Get("dr-who")
	if !got.MayRead("patient-17") || got.MayRead("patient-18") || !bytes.Equal(got.PSS, c.PSS) {
		t.Fatalf("caregiver after grant %+v", got)
	}
	if p, err := r.BySender(2); err != nil || p.Name != "z1-2" {
		t.Fatalf("BySender: %+v %v", p, err)
	}

	k1, err := r.IssueKey("z1-1", ascon, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := r.IssueKey("z1-1", ascon, time.Hour)
	if k1.ID == k2.ID || bytes.Equal(k1.Material, k2.Material) || k1.Sender != 1 || k1.Group != "patient-17" ||
		!k1.NotAfter.Equal(t0.Add(time.Hour)) {
		t.Fatalf("keys %+v %+v", k1, k2)
	}
	if _, err := r.IssueKey("dr-who", ascon, time.Hour); !errors.Is(err, ErrKind) {
		t.Fatalf("key for caregiver: %v", err)
	}
	back, _ := r.Key(k1.ID)
	if !bytes.Equal(back.Material, k1.Material) {
		t.Fatal("stored key differs")
	}

	// Revocation: no more keys, live keys cut to the revocation time.
	clk.Advance(10 * time.Minute)
	if err := r.Revoke("z1-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.IssueKey("z1-1", ascon, time.Hour); !errors.Is(err, ErrRevoked) {
		t.Fatalf("key for revoked node: %v", err)
	}
	if back, _ := r.Key(k1.ID); !back.NotAfter.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("revoked node's key still valid until %v", back.NotAfter)
	}

	// Purge.
	k3, _ := r.IssueKey("z1-2", ascon, 2*time.Hour)
	if n, err := r.PurgeKeys(t0.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("purge removed %d (%v), want 2", n, err)
	}
	if _, err := r.Key(k1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged key: %v", err)
	}
	if _, err := r.Key(k3.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := r.List()
	if len(list) != 3 || list[0].PSS != nil {
		t.Fatalf("list %+v", list)
	}
	keys, _ := r.Keys()
	if len(keys) != 1 || keys[0].Material != nil {
		t.Fatalf("keys %+v", keys)
	}
	if err := r.Ungrant("dr-who", "patient-17"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("dr-who"); got.MayRead("patient-17") {
		t.Fatal("ungrant ineffective")
	}
	if _, err := r.Get("nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

// TestKeyIDsSurviveReopen: key ids and device numbers continue after a
// restart, never repeating.
func TestKeyIDsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts.db")
	r, _ := Open(path, Options{})
	r.RegisterNode("a", "g")
	k, _ := r.IssueKey("a", ascon, time.Hour)
	r.Close()
	r = open(t, path, nil)
	b, _ := r.RegisterNode("b", "g")
	k2, _ := r.IssueKey("b", ascon, time.Hour)
	if b.Sender != 2 || k2.ID != k.ID+1 {
		t.Fatalf("after reopen: sender %d, key %d (before: key %d)", b.Sender, k2.ID, k.ID)
	}
}

// TestKill9 registers in a child process that then kills itself with
// SIGKILL (no Close, no deferred code) and checks that everything it was
// told was stored is there.
func TestKill9(t *testing.T) {
	if os.Getenv("LSMQTT_REGISTRY_CHILD") != "" {
		r, err := Open(os.Getenv("LSMQTT_REGISTRY_CHILD"), Options{})
		if err != nil {
			os.Exit(3)
		}
		p, _ := r.RegisterNode("z1-9", "patient-9")
		r.RegisterCaregiver("nurse")
		r.Grant("nurse", "patient-9")
		k, _ := r.IssueKey("z1-9", ascon, time.Hour)
		os.Stdout.Write(append(append([]byte(nil), p.PSS...), k.Material...))
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	path := filepath.Join(t.TempDir(), "ts.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$")
	cmd.Env = append(os.Environ(), "LSMQTT_REGISTRY_CHILD="+path)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	if len(out) != 32 {
		t.Fatalf("child wrote %d octets", len(out))
	}
	r := open(t, path, nil)
	p, err := r.Get("z1-9")
	if err != nil || !bytes.Equal(p.PSS, out[:16]) || p.Group != "patient-9" {
		t.Fatalf("node after kill -9: %+v %v", p, err)
	}
	if c, err := r.Get("nurse"); err != nil || !c.MayRead("patient-9") {
		t.Fatalf("caregiver after kill -9: %+v %v", c, err)
	}
	k, err := r.Key(1)
	if err != nil || !bytes.Equal(k.Material, out[16:]) {
		t.Fatalf("key after kill -9: %v", err)
	}
}
