package loadgen

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
)

// TestBufConnWrites: writes gathered by bufConn reach the peer complete and
// in order, what is still gathered at Close included.
func TestBufConnWrites(t *testing.T) {
	a, b := net.Pipe()
	got := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	c := newBufConn(a)
	var want bytes.Buffer
	for i := range 500 {
		p := fmt.Appendf(nil, "ack-%03d;", i)
		want.Write(p)
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write %d: %d, %v", i, n, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if all := <-got; !bytes.Equal(all, want.Bytes()) {
		t.Fatalf("peer read %d bytes, want %d in order", len(all), want.Len())
	}
}
