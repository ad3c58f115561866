package eval

import (
	"math"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// The paper's published figures (Bashir & Mir 2021).
const (
	// PaperProposedHours is the proposed scheme's lifetime at 10
	// transactions/hour (§6.3).
	PaperProposedHours = 53664.0
	// PaperCBDTLSHours is CB-DTLS's lifetime at the same rate (§6.3).
	PaperCBDTLSHours = 9575.0
	// PaperRate is the rate of those lifetimes, transactions per hour.
	PaperRate = 10.0
	// PaperRatioPercent is the abstract's "reduces energy utilization to 17.84 %".
	PaperRatioPercent = 17.84
	// PaperMemoryBytes is the proposed scheme's memory (§6.2).
	PaperMemoryBytes = 5608
)

// PaperBattery is the paper's battery: two AA cells, 2800 mAh at 3 V (§6.3),
// 30,240 J, no derating.
var PaperBattery = profile.Battery{Name: "2 x AA (paper 6.3)", CapacityMAh: 2800, VoltageV: 3, Derating: 1}

// PaperModel is the paper's lifetime model: battery energy divided by the
// energy of the transactions, with no idle, sleep or listening current.
type PaperModel struct {
	// ProposedMJ and CBDTLSMJ are the per-transaction energies implied by the
	// published lifetimes: PaperBattery / (PaperRate × lifetime).
	ProposedMJ float64 `json:"proposed_mj"`
	CBDTLSMJ   float64 `json:"cb_dtls_mj"`
	// Battery is the battery lifetimes are projected for.
	Battery profile.Battery `json:"battery"`
	// Derivation says where the energies come from.
	Derivation string `json:"derivation"`
}

// NewPaperModel derives the paper's per-transaction energies from its
// published lifetimes and battery, and projects lifetimes for battery b
// (PaperBattery reproduces the paper).
func NewPaperModel(b profile.Battery) PaperModel {
	e := PaperBattery.EnergyJ() * 1000 // mJ
	return PaperModel{
		ProposedMJ: e / (PaperRate * PaperProposedHours),
		CBDTLSMJ:   e / (PaperRate * PaperCBDTLSHours),
		Battery:    b,
		Derivation: "derived from the paper: 30,240 J (2 x AA, 2800 mAh, 3 V) / (10 tx/h x 53,664 h) and / (10 tx/h x 9,575 h); not measured",
	}
}

// Lifetime is the paper's lifetime in hours for a per-transaction energy at
// rate transactions per hour: battery / (rate × energy).
func (m PaperModel) Lifetime(perTxMJ, rate float64) float64 {
	return m.LifetimeWithFloor(perTxMJ, rate, 0)
}

// LifetimeWithFloor adds an idle power floor (mW) the paper leaves out.
func (m PaperModel) LifetimeWithFloor(perTxMJ, rate, floorMW float64) float64 {
	perHour := rate*perTxMJ + floorMW*3600
	if perHour <= 0 {
		return math.Inf(1)
	}
	return m.Battery.EnergyJ() * 1000 / perHour
}

// RatioPercent is the proposed scheme's energy as a percentage of CB-DTLS's.
func (m PaperModel) RatioPercent() float64 { return 100 * m.ProposedMJ / m.CBDTLSMJ }

// Formula1 is the paper's formula (1):
//
//	Energest_value × Current (mA) × Voltage (V) / (RTIMER_ARCH_SECOND × Time_Duration)
//
// Dividing by the interval makes it a power in mW, not an energy in mJ:
// multiply by the interval to get energy.
func Formula1(ticks uint64, currentMA, volts, intervalS float64) (powerMW float64) {
	return float64(ticks) * currentMA * volts / (energy.TickRate * intervalS)
}
