package evalplot

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lsmqtt/lsmqtt/node/eval"
)

// Files are the names WriteAll writes in its directory.
var Files = []string{"energy-per-transaction.png", "energy-paper-vs-emulated.png", "lifetime.png"}

const (
	width  = 18 * vg.Centimeter
	height = 11 * vg.Centimeter
)

// WriteAll writes every chart of r into dir (created if needed) and returns
// the paths written.
func WriteAll(r *eval.Report, dir string) ([]string, error) {
	if r == nil || len(r.Emulated.Figures) == 0 {
		return nil, errors.New("evalplot: empty report")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for i, f := range []func(*eval.Report) (*plot.Plot, error){EnergyPerTransaction, PaperVsEmulated, Lifetime} {
		p, err := f(r)
		if err != nil {
			return out, err
		}
		path := filepath.Join(dir, Files[i])
		if err := p.Save(width, height, path); err != nil {
			return out, fmt.Errorf("evalplot: %s: %w", path, err)
		}
		out = append(out, path)
	}
	return out, nil
}

func names(r *eval.Report) []string {
	var n []string
	for _, f := range r.Emulated.Figures {
		n = append(n, string(f.Scheme))
	}
	return n
}

// EnergyPerTransaction stacks each scheme's emulated components: encrypt,
// transmit, receive, decrypt, and the session setup's share.
func EnergyPerTransaction(r *eval.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Energy per transaction (%s, %s)", r.Profile.Name, r.Emulated.Origin)
	p.Y.Label.Text = "mJ per transaction"
	parts := []struct {
		name string
		get  func(f eval.Figures) float64
	}{
		{"encrypt", func(f eval.Figures) float64 { return f.Encrypt.EnergyMJ }},
		{"transmit", func(f eval.Figures) float64 { return f.Transmit.EnergyMJ }},
		{"receive", func(f eval.Figures) float64 { return f.Receive.EnergyMJ }},
		{"decrypt", func(f eval.Figures) float64 { return f.Decrypt.EnergyMJ }},
		{"session setup share", func(f eval.Figures) float64 {
			if f.SessionTx <= 0 {
				return 0
			}
			return (f.SetupPublisher.EnergyMJ + f.SetupSubscriber.EnergyMJ) / float64(f.SessionTx)
		}},
	}
	var below *plotter.BarChart
	for i, part := range parts {
		vals := make(plotter.Values, len(r.Emulated.Figures))
		for j, f := range r.Emulated.Figures {
			vals[j] = math.Max(0, part.get(f))
		}
		b, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = vg.Length(0)
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(part.name, b)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.NominalX(names(r)...)
	p.Add(plotter.NewGrid())
	return p, nil
}

// PaperVsEmulated shows the paper model's per-transaction energies beside
// the emulated transaction and per-node energies, on a log scale.
func PaperVsEmulated(r *eval.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Per-transaction energy: paper model vs emulated"
	p.Y.Label.Text = "mJ per transaction (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var paper, txn, node plotter.XYs
	for i, f := range r.Emulated.Figures {
		x := float64(i)
		switch f.Scheme {
		case eval.PaperXOR:
			paper = append(paper, plotter.XY{X: x, Y: r.Paper.Model.ProposedMJ})
		case eval.CBDTLS:
			paper = append(paper, plotter.XY{X: x, Y: r.Paper.Model.CBDTLSMJ})
		}
		if v := f.TransactionMJ(); v > 0 {
			txn = append(txn, plotter.XY{X: x, Y: v})
		}
		if v := f.NodeMJ(); v > 0 {
			node = append(node, plotter.XY{X: x, Y: v})
		}
	}
	series := []struct {
		name  string
		xy    plotter.XYs
		shape draw.GlyphDrawer
	}{
		{"paper model (derived from its lifetimes)", paper, draw.SquareGlyph{}},
		{"emulated: transaction (both motes)", txn, draw.CircleGlyph{}},
		{"emulated: publishing mote", node, draw.TriangleGlyph{}},
	}
	for i, s := range series {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Shape = s.shape
		sc.GlyphStyle.Radius = vg.Points(5)
		sc.GlyphStyle.Color = plotutil.Color(i)
		p.Add(sc)
		p.Legend.Add(s.name, sc)
	}
	p.NominalX(names(r)...)
	p.X.Min, p.X.Max = -0.5, float64(len(r.Emulated.Figures))-0.5
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p, nil
}

// Lifetime plots lifetime against transactions per hour: the paper's model
// (dashed) and the emulated model with the idle floor (solid), log-log.
func Lifetime(r *eval.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Node lifetime (%s, %.0f J battery)", r.Profile.Name, r.Profile.BatteryJ)
	p.X.Label.Text = "transactions per hour (log)"
	p.Y.Label.Text = "lifetime, hours (log)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	lo, hi := 1.0, 100.0
	for _, v := range r.Rates {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	rates := logspace(lo, hi, 60)
	pm := r.Paper.Model
	curves := []struct {
		name   string
		f      func(rate float64) float64
		dashed bool
	}{
		{"paper: proposed", func(x float64) float64 { return pm.Lifetime(pm.ProposedMJ, x) }, true},
		{"paper: CB-DTLS", func(x float64) float64 { return pm.Lifetime(pm.CBDTLSMJ, x) }, true},
	}
	for _, f := range r.Emulated.Figures {
		f := f
		curves = append(curves, struct {
			name   string
			f      func(rate float64) float64
			dashed bool
		}{fmt.Sprintf("emulated: %s", f.Scheme), func(x float64) float64 { return f.LifetimeHoursJ(r.Profile.BatteryJ, x) }, false})
	}
	for i, c := range curves {
		var xy plotter.XYs
		for _, x := range rates {
			if y := c.f(x); y > 0 && !math.IsInf(y, 0) && !math.IsNaN(y) {
				xy = append(xy, plotter.XY{X: x, Y: y})
			}
		}
		if len(xy) < 2 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		if c.dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(c.name, l)
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	// mark the paper's operating point
	pt, err := plotter.NewScatter(plotter.XYs{{X: eval.PaperRate, Y: eval.PaperProposedHours}, {X: eval.PaperRate, Y: eval.PaperCBDTLSHours}})
	if err != nil {
		return nil, err
	}
	pt.GlyphStyle.Color = color.Black
	pt.GlyphStyle.Radius = vg.Points(3)
	p.Add(pt)
	p.Legend.Add("paper 6.3: 53,664 h / 9,575 h", pt)
	return p, nil
}

func logspace(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	a, b := math.Log(lo), math.Log(hi)
	for i := range out {
		out[i] = math.Exp(a + (b-a)*float64(i)/float64(n-1))
	}
	return out
}
