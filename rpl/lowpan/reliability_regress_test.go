package lowpan

import (
	"errors"
	"testing"
)

// TestFrag1UncompressedNotIPv6 is a fuzz finding (FuzzReassembler, seed
// testdata/fuzz/FuzzReassembler/frag1-ipv6-dispatch-not-version-6): a FRAG1
// whose payload has the uncompressed-IPv6 dispatch (0x41) followed by a
// header that is not IPv6 was reassembled into a packet that is not IPv6.
// It is now refused as a bad header (RFC 4944 §5.1) and counted.
func TestFrag1UncompressedNotIPv6(t *testing.T) {
	frag := []byte{0xC0, 0x30, 0x30, 0x30, DispatchIPv6} // FRAG1, size 48, tag 0x3030
	for range 48 {
		frag = append(frag, '0') // version 3
	}
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT, MaxDatagrams: 3, MaxSize: 600})
	p, err := r.Input(frag, nodeA, nodeB)
	if p != nil || !errors.Is(err, ErrDispatch) {
		t.Fatalf("FRAG1 with a non-IPv6 uncompressed header: packet %x, err %v", p, err)
	}
	if st := r.Stats(); st.BadHeaders != 1 {
		t.Fatalf("stats %+v", st)
	}
}
