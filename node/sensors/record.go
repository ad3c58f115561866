package sensors

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// Record layout, big-endian, RecordLen bytes:
//
//	0    version (1)
//	1    alarm flags: bit k set when AlarmKind k is raised
//	2    heart rate, bpm (0-255)
//	3    SpO2, % (0-100)
//	4-5  temperature, centi-°C, signed
//	6-9  time since the patient's start, seconds
const (
	RecordVersion = 1
	RecordLen     = 10
)

// ErrRecord is returned by ParseRecord for bytes that are not a record.
var ErrRecord = errors.New("sensors: malformed vitals record")

// AppendBinary appends v as a record with the given alarm flags.
func (v Vitals) AppendBinary(b []byte, alarms uint8) []byte {
	hr := uint8(clamp(math.Round(v.HeartRate), 0, 255))
	spo2 := uint8(clamp(math.Round(v.SpO2), 0, 100))
	temp := int16(clamp(math.Round(v.TemperatureC*100), math.MinInt16, math.MaxInt16))
	secs := uint32(clamp(math.Floor(v.At.Seconds()), 0, math.MaxUint32))
	b = append(b, RecordVersion, alarms, hr, spo2)
	b = binary.BigEndian.AppendUint16(b, uint16(temp))
	return binary.BigEndian.AppendUint32(b, secs)
}

// ParseRecord decodes a record from the start of b and returns the vitals,
// the alarm flags and the bytes consumed. It does not retain b.
func ParseRecord(b []byte) (v Vitals, alarms uint8, n int, err error) {
	if len(b) < RecordLen || b[0] != RecordVersion || b[3] > 100 || b[1]>>numAlarms != 0 {
		return Vitals{}, 0, 0, ErrRecord
	}
	v = Vitals{
		HeartRate:    float64(b[2]),
		SpO2:         float64(b[3]),
		TemperatureC: float64(int16(binary.BigEndian.Uint16(b[4:6]))) / 100,
		At:           time.Duration(binary.BigEndian.Uint32(b[6:10])) * time.Second,
	}
	return v, b[1], RecordLen, nil
}
