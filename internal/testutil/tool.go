// Package testutil holds small helpers shared by lsmqtt's tests.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// NeedTool returns the path of an external program the test needs. Outside CI
// a missing tool skips the test with a loud message; in CI it fails the test,
// because .ci/run installs every tool the tests need.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("%s is required in CI (CI=true) but not installed: %v", name, err)
	}
	t.Skipf("SKIPPING: %s not installed (%v); install it (apt-get install %s) or run .ci/run to run this test", name, err, name)
	return ""
}
