package mqttsn

import (
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

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
// and .ci/fuzz.sh start from them; set LSMQTT_UPDATE_CORPUS=1 to rewrite.
func TestFuzzCorpusCommitted(t *testing.T) {
	var decode, publish []testutil.Seed
	for _, g := range allGoldens() {
		s := testutil.Seed{Name: corpusName(g.name), Data: g.b}
		decode = append(decode, s)
		if g.msg.Type() == TypePublish {
			publish = append(publish, s)
		}
	}
	testutil.CheckCorpus(t, "FuzzDecode", decode)
	testutil.CheckCorpus(t, "FuzzPublish", publish)
}
