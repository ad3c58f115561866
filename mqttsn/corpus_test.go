package mqttsn

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz seed files from the golden vectors")

// corpusFile is the `go test fuzz v1` encoding of one []byte input.
func corpusFile(b []byte) string {
	return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
}

func corpusName(name string) string {
	var sb strings.Builder
	sb.WriteString("golden_")
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			sb.WriteRune(c)
		case c == '-':
			sb.WriteString("minus")
		case c == ' ':
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// TestFuzzCorpusCommitted checks that every golden vector is in the committed
// seed corpus of FuzzDecode (and PUBLISH ones in FuzzPublish), so `go test`
// and .ci/fuzz.sh start from them. Run with -update-corpus to rewrite.
func TestFuzzCorpusCommitted(t *testing.T) {
	for _, target := range []string{"FuzzDecode", "FuzzPublish"} {
		dir := filepath.Join("testdata", "fuzz", target)
		for _, g := range allGoldens() {
			if target == "FuzzPublish" && g.msg.Type() != TypePublish {
				continue
			}
			path := filepath.Join(dir, corpusName(g.name))
			want := corpusFile(g.b)
			if *updateCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s missing or stale (run go test -run TestFuzzCorpusCommitted -update-corpus ./mqttsn/): %v", path, err)
			}
		}
	}
}
