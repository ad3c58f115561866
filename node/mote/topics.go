package mote

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/lsmqtt/lsmqtt/node/sensors"
)

// Topic kinds, the last segment of a mote's topics.
const (
	KindVitals = "vitals"
	KindAlarm  = "alarm"
	KindECG    = "ecg"
)

// Topic returns the topic name of a kind of data for a patient in an area:
// ward/<area>/patient/<patient>/<kind>.
func Topic(area, patient, kind string) string {
	return "ward/" + area + "/patient/" + patient + "/" + kind
}

// PatientFilter is the MQTT topic filter a caregiver of one patient
// subscribes to: ward/+/patient/<patient>/#.
func PatientFilter(patient string) string { return "ward/+/patient/" + patient + "/#" }

// Alarm payload: kind (sensors.AlarmKind), 1 if raised or 0 if cleared,
// then the sensors record of the reading that changed it (alarm flags as
// they are after the change).
const AlarmLen = 2 + sensors.RecordLen

// AppendAlarm appends the alarm payload of a to b.
func AppendAlarm(b []byte, a sensors.Alarm, v sensors.Vitals, flags uint8) []byte {
	raised := byte(0)
	if a.Raised {
		raised = 1
	}
	return v.AppendBinary(append(b, byte(a.Kind), raised), flags)
}

// ErrPayload is returned for a payload that is not of the expected form.
var ErrPayload = errors.New("mote: malformed payload")

// ParseAlarm decodes an alarm payload.
func ParseAlarm(b []byte) (kind sensors.AlarmKind, raised bool, v sensors.Vitals, flags uint8, err error) {
	if len(b) != AlarmLen || b[1] > 1 {
		return 0, false, sensors.Vitals{}, 0, ErrPayload
	}
	v, flags, _, err = sensors.ParseRecord(b[2:])
	if err != nil {
		return 0, false, sensors.Vitals{}, 0, err
	}
	return sensors.AlarmKind(b[0]), b[1] == 1, v, flags, nil
}

// ECG batch payload, big-endian: version 1 (1 octet), sample rate in Hz
// (2), the time of the first sample since the patient's start in ms (4),
// then the samples as int16 (2 each; the sensors package's units).
const (
	ecgVersion   = 1
	ecgHeaderLen = 7
)

// AppendECG appends an ECG batch payload to b.
func AppendECG(b []byte, hz int, start time.Duration, samples []int16) []byte {
	b = append(b, ecgVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(hz))
	b = binary.BigEndian.AppendUint32(b, uint32(start/time.Millisecond))
	for _, s := range samples {
		b = binary.BigEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// ParseECG decodes an ECG batch payload, appending its samples to dst.
func ParseECG(dst []int16, b []byte) (hz int, start time.Duration, samples []int16, err error) {
	if len(b) < ecgHeaderLen || b[0] != ecgVersion || (len(b)-ecgHeaderLen)%2 != 0 {
		return 0, 0, dst, ErrPayload
	}
	hz = int(binary.BigEndian.Uint16(b[1:3]))
	start = time.Duration(binary.BigEndian.Uint32(b[3:7])) * time.Millisecond
	for i := ecgHeaderLen; i < len(b); i += 2 {
		dst = append(dst, int16(binary.BigEndian.Uint16(b[i:])))
	}
	return hz, start, dst, nil
}
