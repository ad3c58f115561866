package medium

import (
	"context"
	"log/slog"
	"os"
	"time"
)

// LoadTopologyFile reads a topology file and applies it to m.
func (m *Medium) LoadTopologyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := ReadTopology(f)
	if err != nil {
		return err
	}
	return m.ApplyTopology(t)
}

// WatchTopologyFile re-applies the topology file whenever its modification
// time or size changes, checking every interval, until ctx ends: editing the
// file moves nodes at run time. A file that fails to load is logged and the
// previous topology kept.
func (m *Medium) WatchTopologyFile(ctx context.Context, path string, interval time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stat := func() (time.Time, int64) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mt, sz := stat()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if t, s := stat(); !t.Equal(mt) || s != sz {
			mt, sz = t, s
			if err := m.LoadTopologyFile(path); err != nil {
				log.Warn("medium: topology reload failed; keeping the previous one", "path", path, "err", err)
			} else {
				log.Info("medium: topology reloaded", "path", path)
			}
		}
	}
}
