package evalplot

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

func TestWriteAll(t *testing.T) {
	p, err := profile.Load("z1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := eval.Evaluate(eval.Config{Profile: p, Payload: 10})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "charts")
	paths, err := WriteAll(r, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(Files) {
		t.Fatalf("wrote %v", paths)
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
			t.Fatalf("%s: %v", path, b)
		}
	}
	if _, err := WriteAll(&eval.Report{}, dir); err == nil {
		t.Fatal("empty report accepted")
	}
}
