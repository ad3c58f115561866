package medium

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// TopologyFile is the JSON form of a topology (`lsmqtt medium --topology`):
//
//	{"model": "disk", "range": 50, "edge_loss": 0.2,
//	 "nodes": [{"addr": "02:00:00:00:00:00:00:01", "x": 0, "y": 0}],
//	 "links": [{"from": "0x0001", "to": "0x0002", "p": 0.9, "symmetric": true}]}
//
// Addresses are extended (eight colon-separated hex octets) or short (0x1234).
type TopologyFile struct {
	Model    string      `json:"model,omitempty"` // "disk" (default) or "links"
	Range    float64     `json:"range,omitempty"`
	EdgeLoss float64     `json:"edge_loss,omitempty"`
	Nodes    []NodeEntry `json:"nodes,omitempty"`
	Links    []LinkEntry `json:"links,omitempty"`
}

// NodeEntry places one node.
type NodeEntry struct {
	Addr string  `json:"addr"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
}

// LinkEntry sets one explicit link probability.
type LinkEntry struct {
	From      string  `json:"from"`
	To        string  `json:"to"`
	P         float64 `json:"p"`
	Symmetric bool    `json:"symmetric,omitempty"`
}

// ErrTopology reports an invalid topology file.
var ErrTopology = errors.New("medium: invalid topology")

// ReadTopology decodes a topology file.
func ReadTopology(r io.Reader) (*TopologyFile, error) {
	var t TopologyFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopology, err)
	}
	switch t.Model {
	case "", "disk", "links":
	default:
		return nil, fmt.Errorf("%w: model %q (want disk or links)", ErrTopology, t.Model)
	}
	for _, n := range t.Nodes {
		if _, err := ParseAddr(n.Addr); err != nil {
			return nil, err
		}
	}
	for _, l := range t.Links {
		if _, err := ParseAddr(l.From); err != nil {
			return nil, err
		}
		if _, err := ParseAddr(l.To); err != nil {
			return nil, err
		}
		if l.P < 0 || l.P > 1 {
			return nil, fmt.Errorf("%w: link %s→%s probability %v outside [0,1]", ErrTopology, l.From, l.To, l.P)
		}
	}
	return &t, nil
}

// ApplyTopology replaces the medium's positions and explicit links with
// those of t, and its model, range and edge loss where t sets them. Called
// at run time it moves nodes.
func (m *Medium) ApplyTopology(t *TopologyFile) error {
	pos := make(map[ieee802154.Address]Position, len(t.Nodes))
	for _, n := range t.Nodes {
		a, err := ParseAddr(n.Addr)
		if err != nil {
			return err
		}
		pos[a] = Position{n.X, n.Y}
	}
	links := make(map[linkKey]float64, len(t.Links))
	for _, l := range t.Links {
		from, err := ParseAddr(l.From)
		if err != nil {
			return err
		}
		to, err := ParseAddr(l.To)
		if err != nil {
			return err
		}
		links[linkKey{from, to}] = l.P
		if l.Symmetric {
			links[linkKey{to, from}] = l.P
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos, m.links = pos, links
	for a, e := range m.byAddr {
		e.pos, e.placed = pos[a]
	}
	switch t.Model {
	case "disk":
		m.cfg.Model = ModelDisk
	case "links":
		m.cfg.Model = ModelLinks
	}
	if t.Range > 0 {
		m.cfg.Range = t.Range
	}
	if t.EdgeLoss > 0 {
		m.cfg.EdgeLoss = min(t.EdgeLoss, 1)
	}
	return nil
}

// ParseAddr parses an extended address (02:00:00:00:00:00:00:01) or a short
// one (0x1234).
func ParseAddr(s string) (ieee802154.Address, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 16)
		if err != nil || len(s) > 6 {
			return ieee802154.Address{}, fmt.Errorf("%w: short address %q", ErrTopology, s)
		}
		return ieee802154.Short(ieee802154.ShortAddr(v)), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 8 {
		return ieee802154.Address{}, fmt.Errorf("%w: address %q (want 8 hex octets or 0xNNNN)", ErrTopology, s)
	}
	var e ieee802154.ExtAddr
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return ieee802154.Address{}, fmt.Errorf("%w: address %q", ErrTopology, s)
		}
		e[i] = byte(v)
	}
	return ieee802154.Ext(e), nil
}
