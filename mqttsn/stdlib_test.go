package mqttsn

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps the codec free of non-standard imports and of
// fmt (as x/net/dns/dnsmessage does): it must stay small and cheap to embed.
func TestStandardLibraryOnly(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "fmt" || strings.Contains(strings.Split(path, "/")[0], ".") {
				t.Errorf("%s imports %q; package mqttsn uses the standard library only, without fmt", name, path)
			}
		}
	}
}
