package envelope

import "sync"

// maxPooledTopic is the longest topic whose associated data fits the pooled
// scratch buffer; longer topics still work but allocate.
const maxPooledTopic = 256

// scratch holds the nonce and associated data of one Seal or Open. They
// are pooled because slices passed through the cipher.AEAD interface escape
// to the heap.
type scratch struct {
	nonce [16]byte
	ad    []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{ad: make([]byte, 0, HeaderLen+maxPooledTopic)} }}

// aad returns header || topic, the associated data of every envelope.
func (s *scratch) aad(hdr []byte, topic string) []byte {
	s.ad = append(append(s.ad[:0], hdr...), topic...)
	return s.ad
}

func putScratch(s *scratch) {
	if cap(s.ad) > HeaderLen+maxPooledTopic {
		s.ad = make([]byte, 0, HeaderLen+maxPooledTopic)
	}
	scratchPool.Put(s)
}
