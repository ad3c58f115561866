package testutil

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCorpusFile: the encoding is the fuzzing engine's `go test fuzz v1`,
// quoted so that any byte survives.
func TestCorpusFile(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte{}, "go test fuzz v1\n[]byte(\"\")\n"},
		{[]byte("ab"), "go test fuzz v1\n[]byte(\"ab\")\n"},
		{[]byte{0x04, 0xb3, '"', '\n'}, "go test fuzz v1\n[]byte(\"\\x04\\xb3\\\"\\n\")\n"},
	} {
		if got := CorpusFile(tc.in); got != tc.want {
			t.Errorf("CorpusFile(% x) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSeedsWrittenAndChecked: a fresh directory is all stale; after
// WriteSeeds nothing is; a changed, a missing and a new seed are stale.
func TestSeedsWrittenAndChecked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fuzz", "FuzzX")
	seeds := []Seed{{"a", []byte{1, 2}}, {"b", []byte("x")}, {"c", nil}}
	paths := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	if got := StaleSeeds(dir, seeds); !slices.Equal(got, paths("a", "b", "c")) {
		t.Fatalf("before writing: stale %v", got)
	}
	if err := WriteSeeds(dir, seeds); err != nil {
		t.Fatal(err)
	}
	if got := StaleSeeds(dir, seeds); len(got) != 0 {
		t.Fatalf("after writing: stale %v", got)
	}
	if err := os.Remove(filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	changed := []Seed{{"a", []byte{1, 3}}, {"b", []byte("x")}, {"c", nil}, {"d", []byte("new")}}
	if got := StaleSeeds(dir, changed); !slices.Equal(got, paths("a", "b", "d")) {
		t.Fatalf("after changes: stale %v, want a, b, d", got)
	}
}
