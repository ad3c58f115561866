package aead

import "math/bits"

// PCG32 is the PCG-XSH-RR generator with 64-bit state and 32-bit output
// (O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good
// Algorithms for Random Number Generation", 2014; pcg32_random_r in pcg-c).
// The paper (Bashir & Mir 2021, §3.2) calls it a CSPRNG. It is not: its
// output reveals its state, so it is here only to reproduce the paper.
type PCG32 struct{ state, inc uint64 }

const pcgMult = 6364136223846793005

// NewPCG32 seeds a generator the way pcg32_srandom_r does.
func NewPCG32(initState, initSeq uint64) *PCG32 {
	p := new(PCG32)
	p.Seed(initState, initSeq)
	return p
}

// Seed resets the generator as pcg32_srandom_r does.
func (p *PCG32) Seed(initState, initSeq uint64) {
	p.state, p.inc = 0, initSeq<<1|1
	p.Uint32()
	p.state += initState
	p.Uint32()
}

// Uint32 returns the next output.
func (p *PCG32) Uint32() uint32 {
	old := p.state
	p.state = old*pcgMult + p.inc
	xorshifted := uint32(((old >> 18) ^ old) >> 27)
	rot := int(old >> 59)
	return bits.RotateLeft32(xorshifted, -rot)
}
