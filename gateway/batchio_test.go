package gateway

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// TestBatchReader sends datagrams from two sockets and checks that one
// batched read returns each with its sender, as ReadFromUDPAddrPort would,
// and that a datagram longer than a slot comes back longer than MaxDatagram
// (so handleDatagram drops it as oversize) instead of truncated to look valid.
func TestBatchReader(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			ip := net.IPv4(127, 0, 0, 1)
			if network == "udp6" {
				ip = net.IPv6loopback
			}
			sink, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer sink.Close()
			const size = 16
			r := newBatchReader(sink, 4, size+1)
			if r == nil {
				t.Skip("no batched reads on this system")
			}
			var senders []*net.UDPConn
			for range 2 {
				s, err := net.DialUDP(network, nil, sink.LocalAddr().(*net.UDPAddr))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				senders = append(senders, s)
			}
			type dg struct {
				from netip.AddrPort
				data []byte
			}
			want := []dg{
				{senders[0].LocalAddr().(*net.UDPAddr).AddrPort(), []byte("first")},
				{senders[1].LocalAddr().(*net.UDPAddr).AddrPort(), []byte("second")},
				{senders[0].LocalAddr().(*net.UDPAddr).AddrPort(), bytes.Repeat([]byte("x"), 40)},
				{senders[1].LocalAddr().(*net.UDPAddr).AddrPort(), []byte{}},
			}
			for i, w := range want {
				if _, err := senders[i%2].Write(w.data); err != nil {
					t.Fatal(err)
				}
			}
			var got []dg
			for len(got) < len(want) {
				n, err := r.read()
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					b, ap := r.datagram(i)
					got = append(got, dg{ap, append([]byte(nil), b...)})
				}
			}
			for i, w := range want {
				g := got[i]
				if g.from != w.from {
					t.Errorf("datagram %d from %v, want %v", i, g.from, w.from)
				}
				if len(w.data) > size {
					if len(g.data) <= size {
						t.Errorf("datagram %d of %d bytes read as %d bytes: truncation not visible", i, len(w.data), len(g.data))
					}
				} else if !bytes.Equal(g.data, w.data) {
					t.Errorf("datagram %d = %q, want %q", i, g.data, w.data)
				}
			}
		})
	}
}

// TestBatchReaderAllocs: a batched read and its senders' addresses allocate
// nothing.
func TestBatchReaderAllocs(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	r := newBatchReader(sink, 8, 64)
	if r == nil {
		t.Skip("no batched reads on this system")
	}
	s, err := net.DialUDP("udp4", nil, sink.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := []byte("0123456789")
	var sum int
	testutil.AssertAllocs(t, 0, func() {
		_, _ = s.Write(msg)
		n, err := r.read()
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			b, ap := r.datagram(i)
			sum += len(b) + int(ap.Port())
		}
	})
	if sum == 0 {
		t.Fatal("read nothing")
	}
}

// TestReplyBatcher: outside a batch queue refuses (the caller writes at
// once); inside, datagrams are held and written in order when the batch
// ends, each to its own peer; a datagram too long for a slot is refused
// after what was queued has been written, so the order holds.
func TestReplyBatcher(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			ip := net.IPv4(127, 0, 0, 1)
			if network == "udp6" {
				ip = net.IPv6loopback
			}
			src, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer src.Close()
			w := newReplyBatcher(src, 2, 16)
			if w == nil {
				t.Skip("no batched writes on this system")
			}
			var dst [2]*net.UDPConn
			for i := range dst {
				if dst[i], err = net.ListenUDP(network, &net.UDPAddr{IP: ip}); err != nil {
					t.Fatal(err)
				}
				defer dst[i].Close()
			}
			ap := func(i int) netip.AddrPort { return dst[i].LocalAddr().(*net.UDPAddr).AddrPort() }
			if w.queue([]byte("x"), ap(0)) {
				t.Fatal("queued outside a batch")
			}
			w.begin()
			msgs := []string{"a1", "b1", "a2", "b2", "a3"} // more than 2 slots: flushed on the way
			for i, m := range msgs {
				if !w.queue([]byte(m), ap(i%2)) {
					t.Fatalf("%s not queued", m)
				}
			}
			if w.queue(bytes.Repeat([]byte("L"), 17), ap(0)) {
				t.Fatal("a datagram longer than a slot was queued")
			}
			w.end()
			buf := make([]byte, 64)
			for i, want := range [][]string{{"a1", "a2", "a3"}, {"b1", "b2"}} {
				for _, m := range want {
					n, _, err := dst[i].ReadFromUDPAddrPort(buf)
					if err != nil {
						t.Fatal(err)
					}
					if string(buf[:n]) != m {
						t.Fatalf("peer %d got %q, want %q", i, buf[:n], m)
					}
				}
			}
			if w.queue([]byte("x"), ap(0)) {
				t.Fatal("queued after the batch ended")
			}
		})
	}
}

// TestReplyBatcherAllocs: gathering and writing answers allocates nothing.
func TestReplyBatcherAllocs(t *testing.T) {
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	w := newReplyBatcher(src, 8, 64)
	if w == nil {
		t.Skip("no batched writes on this system")
	}
	to := dst.LocalAddr().(*net.UDPAddr).AddrPort()
	msg := []byte("puback")
	testutil.AssertAllocs(t, 0, func() {
		w.begin()
		w.queue(msg, to)
		w.queue(msg, to)
		w.end()
	})
}
