package mqttsn

import "testing"

// Benchmarks for encode and decode of the common messages. Recorded in
// docs/BENCHMARKS.md: go test -run '^$' -bench . -benchmem ./mqttsn/
var benchMessages = []struct {
	name string
	m    Message
}{
	{"PUBLISH", &Publish{QoS: QoS1, TopicID: 5, MsgID: 2, Data: make([]byte, 32)}},
	{"CONNECT", &Connect{CleanSession: true, Duration: 60, ClientID: []byte("sensor-0001")}},
	{"REGISTER", &Register{MsgID: 1, TopicName: []byte("hospital/ward1/bed3/hr")}},
	{"PUBACK", &Puback{TopicID: 5, MsgID: 2}},
	{"SUBSCRIBE", &Subscribe{QoS: QoS1, MsgID: 3, TopicName: []byte("hospital/+/+/alarm")}},
	{"PINGREQ", &Pingreq{}},
	{"DISCONNECT", &Disconnect{HasDuration: true, Duration: 300}},
	{"CONNACK", &Connack{}},
}

func BenchmarkEncode(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(int64(bm.m.Len()))
			for b.Loop() {
				var err error
				if buf, err = bm.m.AppendBinary(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode uses the typed, zero-allocation decoders.
func BenchmarkDecode(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			enc, err := Marshal(bm.m)
			if err != nil {
				b.Fatal(err)
			}
			d := New(bm.m.Type())
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := d.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeAny uses the allocating package-level Decode.
func BenchmarkDecodeAny(b *testing.B) {
	for _, bm := range benchMessages[:2] {
		b.Run(bm.name, func(b *testing.B) {
			enc, _ := Marshal(bm.m)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadHeader(b *testing.B) {
	enc, _ := Marshal(benchMessages[0].m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHeader(enc); err != nil {
			b.Fatal(err)
		}
	}
}
