package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(append([]string{"lsmqtt"}, args...))
	return out.String(), err
}

func TestTSRegistryCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ts.db")
	out, err := runApp(t, "ts", "register", "--db", db, "--node", "z1-7", "--group", "patient-17", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var reg registered
	if err := json.Unmarshal([]byte(out), &reg); err != nil || reg.Sender != 1 || reg.Credential != filepath.Join(dir, "z1-7.cred") {
		t.Fatalf("register output %q (%v)", out, err)
	}
	fi, err := os.Stat(reg.Credential)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential file %v %v", fi, err)
	}
	cred, err := tsclient.LoadCredentials(reg.Credential)
	if err != nil || cred.Name != "z1-7" || cred.Group != "patient-17" || len(cred.PSS) != 16 {
		t.Fatalf("credentials %+v %v", cred, err)
	}
	if strings.Contains(out, "pss") {
		t.Fatal("register printed the secret")
	}
	if out, err := runApp(t, "ts", "register", "--db", db, "--node", "z1-8"); err == nil {
		t.Fatalf("node without group accepted: %s", out)
	}
	if _, err := runApp(t, "ts", "register", "--db", db, "--caregiver", "nurse"); err != nil {
		t.Fatal(err)
	}
	if _, err := runApp(t, "ts", "grant", "--db", db, "--caregiver", "nurse", "--group", "patient-17"); err != nil {
		t.Fatal(err)
	}
	if _, err := runApp(t, "ts", "revoke", "--db", db, "z1-7"); err != nil {
		t.Fatal(err)
	}
	out, err = runApp(t, "ts", "list", "--db", db, "--json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, `"pss"`) || !strings.Contains(out, `"status":"revoked"`) || !strings.Contains(out, `"access":["patient-17"]`) {
		t.Fatalf("list --json: %s", out)
	}
	out, _ = runApp(t, "ts", "list", "--db", db)
	if !strings.Contains(out, "nurse") || !strings.Contains(out, "revoked") {
		t.Fatalf("list: %s", out)
	}
	if _, err := runApp(t, "ts", "revoke", "--db", db, "--caregiver", "nurse", "--group", "patient-17"); err != nil {
		t.Fatal(err)
	}
	out, _ = runApp(t, "ts", "list", "--db", db, "--json")
	if strings.Contains(out, "patient-17\"]") {
		t.Fatalf("grant not removed: %s", out)
	}
}
