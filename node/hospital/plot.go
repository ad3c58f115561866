package hospital

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotFiles are the charts Plot writes.
var PlotFiles = []string{"energy-per-node.png", "lifetime.png", "latency.png", "where.png"}

const (
	plotW = 18 * vg.Centimeter
	plotH = 11 * vg.Centimeter
	// maxBars: above this many nodes, per-node charts become histograms.
	maxBars = 60
	// maxTracks bounds the patients drawn in "where".
	maxTracks = 30
)

// Plot writes the run's charts as PNG files into dir (gonum/plot) and
// returns their paths: energy per node, projected lifetime, latency over
// time and where each patient was.
func Plot(s *Summary, dir string) ([]string, error) {
	if s == nil || len(s.Nodes) == 0 {
		return nil, errors.New("hospital: nothing to plot")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for i, f := range []func(*Summary) (*plot.Plot, error){plotEnergy, plotLifetime, plotLatency, plotWhere} {
		p, err := f(s)
		if err != nil {
			return out, err
		}
		path := filepath.Join(dir, PlotFiles[i])
		if err := p.Save(plotW, plotH, path); err != nil {
			return out, fmt.Errorf("hospital: %s: %w", path, err)
		}
		out = append(out, path)
	}
	return out, nil
}

// perNode draws one bar per node, or a histogram when there are many.
func perNode(s *Summary, p *plot.Plot, unit string, get func(NodeSummary) float64) error {
	vals := make(plotter.Values, len(s.Nodes))
	for i, n := range s.Nodes {
		vals[i] = get(n)
	}
	if len(vals) > maxBars {
		h, err := plotter.NewHist(vals, 30)
		if err != nil {
			return err
		}
		p.Add(h)
		p.X.Label.Text = unit
		p.Y.Label.Text = "nodes"
		return nil
	}
	b, err := plotter.NewBarChart(vals, vg.Points(max(2, 360/float64(len(vals)))))
	if err != nil {
		return err
	}
	b.Color = plotutil.Color(0)
	p.Add(b)
	names := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		names[i] = n.Patient
	}
	p.NominalX(names...)
	p.Y.Label.Text = unit
	return nil
}

func plotEnergy(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Energy per node over %.0f s (%s, z1)", s.SimulatedS, s.Suite)
	return p, perNode(s, p, "mJ", func(n NodeSummary) float64 { return n.EnergyMJ })
}

func plotLifetime(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Projected lifetime on 2×AA at this run's average power"
	return p, perNode(s, p, "days", func(n NodeSummary) float64 { return n.LifetimeDays })
}

func plotLatency(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency, publish → caregiver (wall clock, loopback, no radio airtime)"
	p.X.Label.Text = "simulated time (s)"
	p.Y.Label.Text = "ms"
	pts := make(plotter.XYs, len(s.LatencySeries))
	for i, l := range s.LatencySeries {
		pts[i].X, pts[i].Y = l.At.Seconds(), ms(l.Latency)
	}
	if len(pts) == 0 {
		return p, nil
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle.Radius = vg.Points(1.2)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	p.Add(sc)
	return p, nil
}

func plotWhere(s *Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Where each patient was (gaps: walking between wards)"
	p.X.Label.Text = "simulated time (min)"
	p.Y.Label.Text = "ward"
	n := min(len(s.Itineraries), maxTracks)
	if n < len(s.Itineraries) {
		p.Title.Text += fmt.Sprintf(", first %d of %d patients", n, len(s.Itineraries))
	}
	for i := range n {
		off := (float64(i)/float64(max(n, 1)) - 0.5) * 0.6
		for _, st := range s.Itineraries[i] {
			y := float64(st.Area) + off
			l, err := plotter.NewLine(plotter.XYs{{X: st.From.Minutes(), Y: y}, {X: st.To.Minutes(), Y: y}})
			if err != nil {
				return nil, err
			}
			l.Color = plotutil.Color(i)
			l.Width = vg.Points(2)
			p.Add(l)
		}
	}
	names := make([]string, s.Areas)
	ticks := make([]plot.Tick, s.Areas)
	for i := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: fmt.Sprint(i + 1)}
	}
	if len(s.AreaNames) == s.Areas {
		for i, a := range s.AreaNames {
			ticks[i].Label = a
		}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(s.Areas)-0.4
	return p, nil
}
