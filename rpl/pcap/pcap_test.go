package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

func TestWriteRead(t *testing.T) {
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, LinkTypeIEEE802154WithFCS, WriterOptions{Nanosecond: nano})
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Unix(1700000000, 123456789)
		pkts := [][]byte{{1, 2, 3}, {}, bytes.Repeat([]byte{0xaa}, 127)}
		for i, p := range pkts {
			if err := w.WritePacket(ts.Add(time.Duration(i)*time.Second), p); err != nil {
				t.Fatal(err)
			}
		}
		if got := buf.Len(); got != 24+3*16+3+0+127 {
			t.Fatalf("file length %d", got)
		}
		r, err := NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if r.LinkType() != LinkTypeIEEE802154WithFCS {
			t.Fatalf("link type %d", r.LinkType())
		}
		for i, p := range pkts {
			gt, data, err := r.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			want := ts.Add(time.Duration(i) * time.Second)
			if !nano {
				want = want.Truncate(time.Microsecond)
			}
			if !gt.Equal(want) || !bytes.Equal(data, p) {
				t.Fatalf("record %d: %v %x", i, gt, data)
			}
		}
		if _, _, err := r.ReadPacket(); err != io.EOF {
			t.Fatalf("at end: %v", err)
		}
	}
}

func TestReaderBigEndianAndErrors(t *testing.T) {
	var h []byte
	h = binary.BigEndian.AppendUint32(h, magicMicro)
	h = binary.BigEndian.AppendUint16(h, 2)
	h = binary.BigEndian.AppendUint16(h, 4)
	h = append(h, make([]byte, 8)...)
	h = binary.BigEndian.AppendUint32(h, 100) // snap length
	h = binary.BigEndian.AppendUint32(h, uint32(LinkTypeIPv6))
	rec := binary.BigEndian.AppendUint32(nil, 5)
	rec = binary.BigEndian.AppendUint32(rec, 7)
	rec = binary.BigEndian.AppendUint32(rec, 2)
	rec = binary.BigEndian.AppendUint32(rec, 2)
	rec = append(rec, 0xde, 0xad)
	r, err := NewReader(bytes.NewReader(append(h, rec...)))
	if err != nil || r.LinkType() != LinkTypeIPv6 {
		t.Fatal(err)
	}
	ts, d, err := r.ReadPacket()
	if err != nil || !ts.Equal(time.Unix(5, 7000)) || !bytes.Equal(d, []byte{0xde, 0xad}) {
		t.Fatalf("%v %x %v", ts, d, err)
	}
	// Truncated record.
	r, _ = NewReader(bytes.NewReader(append(h, rec[:17]...)))
	if _, _, err := r.ReadPacket(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated record: %v", err)
	}
	r, _ = NewReader(bytes.NewReader(append(h, rec[:5]...)))
	if _, _, err := r.ReadPacket(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated record header: %v", err)
	}
	// Record longer than the snap length.
	big := bytes.Clone(rec)
	binary.BigEndian.PutUint32(big[8:], 101)
	r, _ = NewReader(bytes.NewReader(append(h, big...)))
	if _, _, err := r.ReadPacket(); !errors.Is(err, ErrRecord) {
		t.Fatalf("oversized record: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(make([]byte, 24))); !errors.Is(err, ErrMagic) {
		t.Fatalf("bad magic: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(h[:10])); err == nil {
		t.Fatal("short header accepted")
	}
}

func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, LinkTypeRaw, WriterOptions{SnapLen: 4})
	if err := w.WritePacket(time.Now(), make([]byte, 5)); !errors.Is(err, ErrTooBig) {
		t.Fatalf("oversized: %v", err)
	}
	fw := &failWriter{n: 1}
	w, err := NewWriter(fw, LinkTypeRaw, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e1 := w.WritePacket(time.Now(), []byte{1})
	e2 := w.WritePacket(time.Now(), []byte{1})
	if e1 == nil || e2 != e1 {
		t.Fatalf("write errors %v %v", e1, e2)
	}
	if _, err := NewWriter(&failWriter{}, LinkTypeRaw, WriterOptions{}); err == nil {
		t.Fatal("header write error lost")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return len(p), nil
	}
	return 0, errors.New("disk full")
}

func TestAppendIPv4UDPChecksums(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.1:1234")
	dst := netip.MustParseAddrPort("192.0.2.2:17754")
	b, err := AppendIPv4UDP(nil, src, dst, []byte("EX\x02"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 31 || b[0] != 0x45 || b[9] != 17 {
		t.Fatalf("header %x", b)
	}
	// A correct checksum makes the one's-complement sum 0xffff.
	if fold(sum(b[:20], 0)) != 0xffff {
		t.Fatal("bad IPv4 header checksum")
	}
	acc := sum(b[12:20], 0) + 17 + uint32(len(b)-20)
	if fold(sum(b[20:], acc)) != 0xffff {
		t.Fatal("bad UDP checksum")
	}
	if _, err := AppendIPv4UDP(nil, netip.MustParseAddrPort("[::1]:1"), dst, nil); !errors.Is(err, ErrEncap) {
		t.Fatal("IPv6 source accepted")
	}
}
