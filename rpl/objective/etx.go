package objective

// ETX is an expected transmission count in fixed point: ETXDivisor means one
// transmission per delivered frame. RFC 6551 §4.3.2 carries ETX scaled by
// 128, and MRHOF's link metric is this value (RFC 6719 §3.1).
type ETX uint16

// ETXDivisor is the fixed-point scale of ETX (RFC 6551 §4.3.2).
const ETXDivisor = 128

// Estimator constants. The weights are those of an EWMA that settles within
// about ten frames; the initial value 2 is a guess made before any frame
// was sent, and an unacknowledged frame counts as NoAckPenalty
// transmissions so that a dead link quickly exceeds MRHOF's MAX_LINK_METRIC.
const (
	InitialETX     ETX = 2 * ETXDivisor
	NoAckPenalty       = 12 // transmissions charged for a frame never acknowledged
	alphaScale         = 100
	alpha              = 10 // weight of a new sample, percent
	bootstrapAlpha     = 25 // weight while the estimate is young
	bootstrapCount     = 3
	maxETX             = 0xFFFF
)

// LinkETX estimates the ETX of one link from the outcome of each unicast
// frame. The zero value is ready and reads InitialETX. It is not safe for
// concurrent use.
type LinkETX struct {
	etx     ETX
	samples uint16
}

// Value returns the current estimate.
func (l *LinkETX) Value() ETX {
	if l.samples == 0 {
		return InitialETX
	}
	return l.etx
}

// Samples returns the number of outcomes the estimate is based on.
func (l *LinkETX) Samples() int { return int(l.samples) }

// Fresh reports whether the estimate rests on real transmissions.
func (l *LinkETX) Fresh() bool { return l.samples > 0 }

// Update folds in one frame that took tx transmissions and was acknowledged
// (acked) or dropped after them.
func (l *LinkETX) Update(tx int, acked bool) {
	if tx < 1 {
		tx = 1
	}
	sample := uint32(tx) * ETXDivisor
	if !acked {
		sample = uint32(max(tx, NoAckPenalty)) * ETXDivisor
	}
	if sample > maxETX {
		sample = maxETX
	}
	cur := uint32(l.Value())
	a := uint32(alpha)
	if l.samples < bootstrapCount {
		a = bootstrapAlpha
	}
	v := (cur*(alphaScale-a) + sample*a) / alphaScale
	if v < ETXDivisor {
		v = ETXDivisor
	}
	l.etx = ETX(v)
	if l.samples < 0xFFFF {
		l.samples++
	}
}
