package monitor

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// RenderOptions tune Render.
type RenderOptions struct {
	// ANSI clears the screen first and colours alarms (a terminal).
	ANSI bool
	// Title is the first line.
	Title string
	// Now is the reference for "last seen" (default: the latest LastSeen).
	Now time.Time
	// MaxRows limits the patients shown (0: all); the rest are summarised.
	MaxRows int
}

// Render writes the caregiver's table of patients to w.
func Render(w io.Writer, ps []Patient, st Stats, o RenderOptions) error {
	var b strings.Builder
	if o.ANSI {
		b.WriteString("\x1b[H\x1b[2J")
	}
	now := o.Now
	if now.IsZero() {
		for _, p := range ps {
			if p.LastSeen.After(now) {
				now = p.LastSeen
			}
		}
	}
	if o.Title != "" {
		b.WriteString(o.Title)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%-8s %-8s %5s %5s %6s %9s %5s %5s  %s\n",
		"patient", "area", "HR", "SpO2", "temp", "last seen", "msgs", "gaps", "alarms")
	shown := ps
	if o.MaxRows > 0 && len(ps) > o.MaxRows {
		shown = ps[:o.MaxRows]
	}
	for _, p := range shown {
		seen := "-"
		if !p.LastSeen.IsZero() {
			seen = fmtAgo(now.Sub(p.LastSeen))
		}
		alarms := strings.Join(p.Alarms, ",")
		if alarms == "" {
			alarms = "-"
		} else if o.ANSI {
			alarms = "\x1b[1;31m" + alarms + "\x1b[0m"
		}
		gaps := fmt.Sprint(p.Missing)
		if o.ANSI && p.Missing > 0 {
			gaps = "\x1b[33m" + fmt.Sprintf("%5d", p.Missing) + "\x1b[0m"
		}
		if p.Messages == 0 {
			fmt.Fprintf(&b, "%-8s %-8s %5s %5s %6s %9s %5d %5s  cannot open: %d refused (no key for this patient?)\n",
				trunc(p.ID, 8), "-", "-", "-", "-", seen, p.Messages, "-", p.Rejected)
			continue
		}
		fmt.Fprintf(&b, "%-8s %-8s %5.0f %5.0f %6.2f %9s %5d %5s  %s\n",
			trunc(p.ID, 8), trunc(p.Area, 8), p.HeartRate, p.SpO2, p.TemperatureC, seen, p.Messages, gaps, alarms)
	}
	if len(shown) < len(ps) {
		fmt.Fprintf(&b, "... and %d more patients\n", len(ps)-len(shown))
	}
	fmt.Fprintf(&b, "messages %d, opened %d, refused %d, missing %d\n", st.Messages, st.Opened, st.Rejected, st.Missing)
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtAgo(d time.Duration) string {
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
