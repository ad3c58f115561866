package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// UpdateCorpusEnv names the environment variable that makes CheckCorpus
// rewrite a seed corpus instead of checking it.
const UpdateCorpusEnv = "LSMQTT_UPDATE_CORPUS"

// Seed is one named input of a fuzz target's committed seed corpus.
type Seed struct {
	Name string // file name under the target's corpus directory
	Data []byte
}

// CorpusFile is the `go test fuzz v1` encoding of one []byte input, as the
// fuzzing engine reads it from testdata/fuzz/FuzzXxx.
func CorpusFile(b []byte) string {
	return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
}

// StaleSeeds returns the paths under dir whose file is missing or does not
// hold its seed.
func StaleSeeds(dir string, seeds []Seed) []string {
	var stale []string
	for _, s := range seeds {
		path := filepath.Join(dir, s.Name)
		if got, err := os.ReadFile(path); err != nil || string(got) != CorpusFile(s.Data) {
			stale = append(stale, path)
		}
	}
	return stale
}

// WriteSeeds writes every seed to its file under dir, creating dir.
func WriteSeeds(dir string, seeds []Seed) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range seeds {
		if err := os.WriteFile(filepath.Join(dir, s.Name), []byte(CorpusFile(s.Data)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CheckCorpus keeps a fuzz target's committed seed corpus in step with the
// seeds a test builds in Go (golden vectors, authentic messages), so that
// `go test` and .ci/fuzz.sh start from them: it fails t for every seed whose
// file under testdata/fuzz/<target> is missing or stale. With
// LSMQTT_UPDATE_CORPUS set it writes them instead.
func CheckCorpus(t testing.TB, target string, seeds []Seed) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if os.Getenv(UpdateCorpusEnv) != "" {
		if err := WriteSeeds(dir, seeds); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, path := range StaleSeeds(dir, seeds) {
		t.Errorf("%s missing or stale (rewrite: %s=1 go test -run '^%s$' in its package)", path, UpdateCorpusEnv, t.Name())
	}
}
