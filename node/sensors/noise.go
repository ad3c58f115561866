package sensors

import "math"

// splitmix64 is the SplitMix64 finaliser (Steele, Lea, Flood 2014): a
// bijective mix used here as a counter-based random source.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// lattice is a uniform value in [-1, 1] for (seed, stream, i).
func lattice(seed, stream uint64, i int64) float64 {
	h := splitmix64(seed ^ splitmix64(stream<<32^uint64(i)))
	return float64(h>>11)/float64(1<<52) - 1
}

// valueNoise is smooth noise in [-1, 1] with features about period seconds
// apart: random values on a lattice, blended with a smootherstep.
func valueNoise(seed, stream uint64, t, period float64) float64 {
	x := t / period
	i := math.Floor(x)
	f := x - i
	f = f * f * f * (f*(f*6-15) + 10)
	a := lattice(seed, stream, int64(i))
	b := lattice(seed, stream, int64(i)+1)
	return a + (b-a)*f
}
