package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/eval/evalplot"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// profileFlag loads the mote profile named by --profile, with the battery
// derating of --derating when it is set. Shared by energy, node and node measure.
func profileFlag(c *cli.Context) (*profile.Profile, error) {
	p, err := profile.Load(c.String("profile"))
	if err != nil {
		return nil, err
	}
	if c.IsSet("derating") {
		p = p.Clone()
		p.Battery.Derating = c.Float64("derating")
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("--derating: %w", err)
		}
	}
	return p, nil
}

// schemesFlag parses --suite (repeated or comma-separated); nil means the default set.
func schemesFlag(c *cli.Context) ([]eval.Scheme, error) {
	var schemes []eval.Scheme
	for _, v := range c.StringSlice("suite") {
		for _, name := range strings.Split(v, ",") {
			s, err := eval.ParseScheme(strings.TrimSpace(name))
			if err != nil {
				return nil, fmt.Errorf("--suite: %w", err)
			}
			schemes = append(schemes, s)
		}
	}
	return schemes, nil
}

// plotFlag writes the evaluation's charts into --plot's directory, if given.
func plotFlag(c *cli.Context, r *eval.Report) error {
	dir := c.String("plot")
	if dir == "" {
		return nil
	}
	paths, err := evalplot.WriteAll(r, dir)
	if err != nil {
		return err
	}
	logger.Info("charts written", "files", paths)
	return nil
}
