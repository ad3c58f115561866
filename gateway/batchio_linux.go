//go:build linux

package gateway

import (
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgReader reads a UDP socket with recvmmsg(2). golang.org/x/net's
// ipv4.PacketConn.ReadBatch makes the same call but builds a *net.UDPAddr
// (two allocations) for every datagram; this reader keeps the raw sockaddrs
// and parses them into netip.AddrPort.
type mmsgReader struct {
	rc    syscall.RawConn
	hs    []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for AF_INET and AF_INET6
	slab  []byte
	size  int // bytes per datagram slot

	n     int
	errno syscall.Errno
	recv  func(fd uintptr) bool // bound once: no closure allocated per read
}

func newBatchReader(c *net.UDPConn, batch, size int) datagramBatch {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{
		rc:    rc,
		hs:    make([]unix.Mmsghdr, batch),
		iovs:  make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet6, batch),
		slab:  make([]byte, batch*size),
		size:  size,
	}
	for i := range r.hs {
		r.iovs[i].Base = &r.slab[i*size]
		r.iovs[i].SetLen(size)
		h := &r.hs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
	r.recv = r.recvmmsg
	return r
}

func (r *mmsgReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(len(r.hs)),
			unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.n, r.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until readable (or the deadline)
		default:
			r.n, r.errno = 0, e
			return true
		}
	}
}

func (r *mmsgReader) read() (int, error) {
	for i := range r.hs {
		r.hs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.hs[i].Hdr.Flags = 0
		r.hs[i].Len = 0
	}
	r.n = 0
	if err := r.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, &net.OpError{Op: "recvmmsg", Net: "udp", Err: r.errno}
	}
	return r.n, nil
}

func (r *mmsgReader) datagram(i int) ([]byte, netip.AddrPort) {
	n := int(r.hs[i].Len)
	if r.hs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
		n = r.size // longer than the slot: handleDatagram drops it as oversize
	}
	b := r.slab[i*r.size : i*r.size+n]
	return b, sockaddrAddrPort(&r.names[i])
}

// sockaddrAddrPort converts a raw sockaddr as net.UDPConn.ReadFromUDPAddrPort
// would: AF_INET as a 4-byte address, AF_INET6 as 16 bytes (v4-mapped kept)
// with its zone.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(a, uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// growSocketBuffers raises the socket's receive and send buffers to n bytes
// where they are smaller (the kernel reports twice what was set).
func growSocketBuffers(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	var rcv, snd int
	_ = rc.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	if rcv < 2*n {
		_ = c.SetReadBuffer(n)
	}
	if snd < 2*n {
		_ = c.SetWriteBuffer(n)
	}
}

// replyBatcher gathers the datagrams a UDP socket sends while a read batch
// is being handled (PUBACKs, CONNACKs, deliveries) and writes them with one
// sendmmsg(2) when the batch is done, instead of one sendto each. Outside a
// batch, queue refuses and the caller writes at once. Everything sent on the
// socket while a batch is open goes through the queue, so datagrams to one
// peer leave in the order they were sent.
type replyBatcher struct {
	mu     sync.Mutex
	active int // read batches being handled
	rc     syscall.RawConn
	inet6  bool // the socket is AF_INET6: IPv4 peers as v4-mapped
	size   int  // bytes per slot
	hs     []unix.Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet6
	slab   []byte
	n      int // queued
	off    int // first not yet written, while flushing

	sent  int
	errno syscall.Errno
	send  func(fd uintptr) bool
}

func newReplyBatcher(c *net.UDPConn, batch, size int) *replyBatcher {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	dom := -1
	if err := rc.Control(func(fd uintptr) { dom, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN) }); err != nil || (dom != unix.AF_INET && dom != unix.AF_INET6) {
		return nil
	}
	w := &replyBatcher{rc: rc, inet6: dom == unix.AF_INET6, size: size,
		hs: make([]unix.Mmsghdr, batch), iovs: make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet6, batch), slab: make([]byte, batch*size)}
	for i := range w.hs {
		w.iovs[i].Base = &w.slab[i*size]
		h := &w.hs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&w.names[i]))
		h.Iov = &w.iovs[i]
		h.SetIovlen(1)
	}
	w.send = w.sendmmsg
	return w
}

// begin opens a read batch; end closes it and writes what was queued.
func (w *replyBatcher) begin() {
	w.mu.Lock()
	w.active++
	w.mu.Unlock()
}

func (w *replyBatcher) end() {
	w.mu.Lock()
	w.flush()
	w.active--
	w.mu.Unlock()
}

// queue copies b for ap into the batch; false when no batch is open (or b
// does not fit a slot, or ap is of the wrong family): write it at once.
func (w *replyBatcher) queue(b []byte, ap netip.AddrPort) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active == 0 || len(b) > w.size || (!w.inet6 && !ap.Addr().Is4()) {
		if w.active > 0 {
			w.flush() // keep the order with what is queued
		}
		return false
	}
	if w.n == len(w.hs) {
		w.flush()
	}
	i := w.n
	copy(w.slab[i*w.size:], b)
	w.iovs[i].SetLen(len(b))
	h := &w.hs[i].Hdr
	sa := &w.names[i]
	a := ap.Addr()
	if w.inet6 {
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(ap.Port()>>8), byte(ap.Port())
		if z := a.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa.Scope_id = uint32(ifi.Index)
			}
		}
		h.Namelen = unix.SizeofSockaddrInet6
	} else {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		p[0], p[1] = byte(ap.Port()>>8), byte(ap.Port())
		h.Namelen = unix.SizeofSockaddrInet4
	}
	w.n++
	return true
}

// flush writes the queued datagrams. A datagram the kernel refuses is
// skipped (as a failed sendto would lose it). Call with w.mu held.
func (w *replyBatcher) flush() {
	for w.off = 0; w.off < w.n; {
		w.sent, w.errno = 0, 0
		if err := w.rc.Write(w.send); err != nil {
			break // the socket is closed
		}
		if w.errno != 0 {
			w.off += w.sent + 1 // skip the datagram that failed
			continue
		}
		w.off += w.sent
	}
	w.n, w.off = 0, 0
}

// sendmmsg writes w.hs[w.off:w.n]; bound once to w.send.
func (w *replyBatcher) sendmmsg(fd uintptr) bool {
	hs := w.hs[w.off:w.n]
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)),
			unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			w.sent = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // wait until writable
		default:
			w.errno = e
			return true
		}
	}
}
