package eval

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// DefaultRates are the transaction rates (per hour) lifetimes are shown for.
var DefaultRates = []float64{1, 2, 5, 10, 20, 50, 100}

// Config selects what Evaluate computes.
type Config struct {
	Profile   *profile.Profile // required
	Source    Source           // nil: the modelled transaction (NewModel)
	Schemes   []Scheme         // nil: all
	Rates     []float64        // nil: DefaultRates; PaperRate is always included
	Payload   int              // vital-sign record bytes for the model
	SessionTx int              // transactions per session for the model; 0: DefaultSessionTx
}

// ProfileInfo summarises the profile a report was made for.
type ProfileInfo struct {
	Name          string  `json:"name"`
	Description   string  `json:"description"`
	ClockHz       uint64  `json:"clock_hz"`
	VoltageV      float64 `json:"voltage_v"`
	BatteryJ      float64 `json:"battery_j"`
	Derating      float64 `json:"derating"`
	IdleListenPPM uint64  `json:"idle_listen_ppm"`
}

// PaperRow is the paper model at one rate, as published and with the idle
// floors it leaves out.
type PaperRow struct {
	Rate                 float64 `json:"rate_per_hour"`
	ProposedH            float64 `json:"proposed_h"`
	CBDTLSH              float64 `json:"cb_dtls_h"`
	ProposedLPMH         float64 `json:"proposed_with_lpm_h"`
	CBDTLSLPMH           float64 `json:"cb_dtls_with_lpm_h"`
	ProposedLPMListenH   float64 `json:"proposed_with_lpm_listen_h"`
	CBDTLSLPMListenH     float64 `json:"cb_dtls_with_lpm_listen_h"`
	ProposedOverCBDTLSPc float64 `json:"proposed_over_cb_dtls_percent"`
}

// Formula1Demo applies the paper's formula (1) to one Energest interval.
type Formula1Demo struct {
	Scheme    Scheme  `json:"scheme"`
	IntervalS float64 `json:"interval_s"`
	Rate      float64 `json:"rate_per_hour"`
	// ResultMW is what formula (1) returns; the paper calls it mJ, it is mW.
	ResultMW float64 `json:"result_mw"`
	// EnergyMJ is the energy of the interval: ResultMW × IntervalS.
	EnergyMJ float64 `json:"energy_mj"`
}

// PaperSection is the paper model.
type PaperSection struct {
	Model          PaperModel   `json:"model"`
	RatioPercent   float64      `json:"ratio_percent"`
	LifetimeRatio  float64      `json:"lifetime_ratio"`
	LPMFloorMW     float64      `json:"lpm_floor_mw"`
	ListenFloorMW  float64      `json:"listen_floor_mw"`
	Rows           []PaperRow   `json:"rows"`
	Formula1       Formula1Demo `json:"formula1"`
	Interpretation []string     `json:"interpretation"`
}

// EmulatedSection is the emulated model.
type EmulatedSection struct {
	Origin  Origin    `json:"origin"`
	Figures []Figures `json:"figures"`
	// Lifetimes[scheme][i] is the publishing mote's lifetime in hours at
	// Rates[i], idle floor included.
	Lifetimes map[Scheme][]float64 `json:"lifetimes_h"`
	// HandshakeEachTx is CB-DTLS's lifetime at PaperRate if every
	// transaction paid a full handshake (hours), when CB-DTLS is evaluated.
	HandshakeEachTxH float64 `json:"cb_dtls_handshake_each_tx_h,omitempty"`
}

// Report is the whole evaluation.
type Report struct {
	Profile  ProfileInfo     `json:"profile"`
	Rates    []float64       `json:"rates_per_hour"`
	Paper    PaperSection    `json:"paper"`
	Emulated EmulatedSection `json:"emulated"`
	Memory   Memory          `json:"memory"`
}

// Evaluate computes the report.
func Evaluate(cfg Config) (*Report, error) {
	p := cfg.Profile
	if p == nil {
		return nil, errors.New("eval: no profile")
	}
	schemes := cfg.Schemes
	if len(schemes) == 0 {
		schemes = Schemes()
	}
	rates := normaliseRates(cfg.Rates)
	model := NewModel(p, cfg.Payload)
	if cfg.SessionTx > 0 {
		model.SessionTx = cfg.SessionTx
	}
	src := cfg.Source
	if src == nil {
		src = model
	}
	r := &Report{
		Profile: ProfileInfo{Name: p.Name, Description: p.Description, ClockHz: p.MCU.ClockHz, VoltageV: p.VoltageV,
			BatteryJ: p.Battery.EnergyJ(), Derating: p.Battery.Derating, IdleListenPPM: p.MAC.IdleListenPPM},
		Rates: rates,
	}

	// The paper model, projected on the profile's battery (derating applies).
	pm := NewPaperModel(p.Battery)
	lpm := p.Currents.LPM * p.VoltageV
	listen := float64(p.MAC.IdleListenPPM) / 1e6 * p.Currents.RX * p.VoltageV
	r.Paper = PaperSection{Model: pm, RatioPercent: pm.RatioPercent(),
		LifetimeRatio: pm.Lifetime(pm.ProposedMJ, PaperRate) / pm.Lifetime(pm.CBDTLSMJ, PaperRate),
		LPMFloorMW:    lpm, ListenFloorMW: listen}
	for _, rate := range rates {
		r.Paper.Rows = append(r.Paper.Rows, PaperRow{
			Rate:                 rate,
			ProposedH:            pm.Lifetime(pm.ProposedMJ, rate),
			CBDTLSH:              pm.Lifetime(pm.CBDTLSMJ, rate),
			ProposedLPMH:         pm.LifetimeWithFloor(pm.ProposedMJ, rate, lpm),
			CBDTLSLPMH:           pm.LifetimeWithFloor(pm.CBDTLSMJ, rate, lpm),
			ProposedLPMListenH:   pm.LifetimeWithFloor(pm.ProposedMJ, rate, lpm+listen),
			CBDTLSLPMListenH:     pm.LifetimeWithFloor(pm.CBDTLSMJ, rate, lpm+listen),
			ProposedOverCBDTLSPc: 100 * pm.ProposedMJ / pm.CBDTLSMJ,
		})
	}

	// The emulated model.
	r.Emulated.Lifetimes = map[Scheme][]float64{}
	for _, s := range schemes {
		f, err := src.Figures(s)
		if err != nil {
			return nil, err
		}
		if r.Emulated.Origin == "" {
			r.Emulated.Origin = f.Origin
		} else if r.Emulated.Origin != f.Origin {
			r.Emulated.Origin = "mixed"
		}
		r.Emulated.Figures = append(r.Emulated.Figures, f)
		for _, rate := range rates {
			r.Emulated.Lifetimes[s] = append(r.Emulated.Lifetimes[s], f.LifetimeHours(p.Battery, rate))
		}
		if s == CBDTLS && f.SessionTx > 0 {
			g := f
			g.SessionTx = 1
			r.Emulated.HandshakeEachTxH = g.LifetimeHours(p.Battery, PaperRate)
		}
	}

	// Formula (1) on one interval of the first AEAD scheme (or the first).
	demo := schemes[0]
	for _, s := range schemes {
		if s == Ascon128 {
			demo = s
		}
	}
	fd, err := formula1Demo(model, demo, PaperRate)
	if err != nil {
		return nil, err
	}
	r.Paper.Formula1 = fd
	r.Paper.Interpretation = []string{
		"paper model: lifetime = battery / (rate x energy per transaction), no idle current; energies derived from the paper's lifetimes, not measured",
		fmt.Sprintf("formula (1) divides by Time_Duration, so it is a power: %.4g mW for one %.0f s interval of the modelled %s publisher, i.e. %.4g mJ over that interval",
			fd.ResultMW, fd.IntervalS, fd.Scheme, fd.EnergyMJ),
		fmt.Sprintf("the 17.84 %% equals the ratio of the two lifetimes (%.2f %%), which holds only if nothing but transactions draws current", 100*PaperCBDTLSHours/PaperProposedHours),
	}
	r.Memory = MemoryReport(p, model.Frames, schemes)
	return r, nil
}

func normaliseRates(in []float64) []float64 {
	if len(in) == 0 {
		in = DefaultRates
	}
	var out []float64
	have10 := false
	for _, v := range in {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		have10 = have10 || v == PaperRate
		out = append(out, v)
	}
	if !have10 {
		out = append(out, PaperRate)
	}
	sortFloats(out)
	return out
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// formula1Demo meters one Energest interval (3600/rate seconds) of the
// modelled publisher doing one transaction and applies formula (1) to each
// state's ticks.
func formula1Demo(md *Model, s Scheme, rate float64) (Formula1Demo, error) {
	p := md.Profile
	interval := time.Duration(float64(time.Hour) / rate)
	m := energy.NewMeter(p)
	m.Advance(interval)
	if err := md.Publish(m, s); err != nil {
		return Formula1Demo{}, err
	}
	snap := m.Snapshot()
	T := energy.Duration(snap.Time).Seconds()
	tx, _ := p.TXCurrent(p.Radio.DefaultTXDBm)
	v := p.VoltageV
	pw := Formula1(snap.Ticks.CPU, p.Currents.CPU, v, T) +
		Formula1(snap.Ticks.LPM, p.Currents.LPM, v, T) +
		Formula1(snap.Ticks.TX, tx, v, T) +
		Formula1(snap.Ticks.RX+snap.Ticks.IdleListen, p.Currents.RX, v, T)
	return Formula1Demo{Scheme: s, IntervalS: T, Rate: rate, ResultMW: pw, EnergyMJ: pw * T}, nil
}

// WriteText prints the report as tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	pf := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p := r.Profile
	pf("Profile %s: %s\n", p.Name, p.Description)
	pf("  %d Hz, %.3g V, battery %.0f J (derating %.2f), idle listening %.2f %%\n\n",
		p.ClockHz, p.VoltageV, p.BatteryJ, p.Derating, float64(p.IdleListenPPM)/1e4)

	pm := r.Paper.Model
	pf("== paper model (Bashir & Mir 2021, §6.3): no idle current ==\n")
	pf("  per-transaction energy %s:\n", pm.Derivation)
	pf("    proposed %.2f mJ, CB-DTLS %.1f mJ, ratio %.2f %% (paper: 17.84 %%), lifetime ratio %.2fx (paper: 5.6x)\n",
		pm.ProposedMJ, pm.CBDTLSMJ, r.Paper.RatioPercent, r.Paper.LifetimeRatio)
	pf("  idle floors the paper omits: LPM %.4f mW, + idle listening %.4f mW\n", r.Paper.LPMFloorMW, r.Paper.ListenFloorMW)
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tx/h\tproposed h\tCB-DTLS h\t+LPM proposed\t+LPM CB-DTLS\t+LPM+listen proposed\t+LPM+listen CB-DTLS\t")
	for _, row := range r.Paper.Rows {
		fmt.Fprintf(tw, "%g\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", row.Rate, row.ProposedH, row.CBDTLSH,
			row.ProposedLPMH, row.CBDTLSLPMH, row.ProposedLPMListenH, row.CBDTLSLPMListenH)
	}
	tw.Flush()
	for _, s := range r.Paper.Interpretation {
		pf("  - %s\n", s)
	}

	pf("\n== emulated model (%s): per-transaction energy in mJ, idle floor included in lifetimes ==\n", r.Emulated.Origin)
	tw = tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scheme\tencrypt\ttransmit\treceive\tdecrypt\tsetup/session\ttransaction\tnode/tx\tPUBLISH B\t")
	for _, f := range r.Emulated.Figures {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f/%d\t%.4f\t%.4f\t%d\t\n", f.Scheme,
			f.Encrypt.EnergyMJ, f.Transmit.EnergyMJ, f.Receive.EnergyMJ, f.Decrypt.EnergyMJ,
			f.SetupPublisher.EnergyMJ+f.SetupSubscriber.EnergyMJ, f.SessionTx, f.TransactionMJ(), f.NodeMJ(), f.Frames.PublishUp)
	}
	tw.Flush()
	if len(r.Emulated.Figures) > 0 {
		idle := r.Emulated.Figures[0].IdlePowerMW
		pf("  idle floor of the node: %.4f mW (%.0f h with no traffic)\n", idle, r.Profile.BatteryJ*1000/idle/3600)
	}
	pf("  publishing mote's lifetime in hours:\n")
	tw = tabwriter.NewWriter(&b, 2, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "scheme\t"
	for _, rate := range r.Rates {
		hdr += fmt.Sprintf("%g/h\t", rate)
	}
	fmt.Fprintln(tw, hdr)
	for _, f := range r.Emulated.Figures {
		line := string(f.Scheme) + "\t"
		for _, h := range r.Emulated.Lifetimes[f.Scheme] {
			line += fmt.Sprintf("%.0f\t", h)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if r.Emulated.HandshakeEachTxH > 0 {
		pf("  CB-DTLS with a full handshake every transaction: %.0f h at %g tx/h\n", r.Emulated.HandshakeEachTxH, PaperRate)
	}
	// Each distinct note once, with the schemes it applies to.
	var notes []string
	who := map[string][]string{}
	for _, f := range r.Emulated.Figures {
		for _, n := range f.Notes {
			if _, ok := who[n]; !ok {
				notes = append(notes, n)
			}
			who[n] = append(who[n], string(f.Scheme))
		}
	}
	for _, n := range notes {
		scope := strings.Join(who[n], ", ")
		if len(who[n]) == len(r.Emulated.Figures) {
			scope = "all"
		}
		pf("  - %s: %s\n", scope, n)
	}

	m := r.Memory
	pf("\n== memory (paper §6.2: %d bytes) on %s: %d B RAM, %d B flash ==\n", m.PaperBytes, m.Profile, m.RAMBytes, m.FlashBytes)
	tw = tabwriter.NewWriter(&b, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scheme\tcode B\tstate B\tparts")
	for _, c := range m.Code {
		bytes := fmt.Sprint(c.Bytes)
		if !c.Complete {
			bytes = ">= " + bytes
		}
		if c.Approximate {
			bytes += " ~"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Scheme, bytes, m.StateTotal[c.Scheme], strings.Join(c.Parts, ", "))
	}
	tw.Flush()
	for _, n := range m.Notes {
		pf("  - %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
