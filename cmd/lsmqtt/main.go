// Command lsmqtt is the single command-line entry point of lsmqtt: the area
// gateway, the Trusted System, the radio medium, emulated nodes, the hospital
// simulation, the caregiver monitor and the tools around them.
//
// Each subcommand lives in its own file (cmd_<name>.go) and registers itself
// with register from an init function, so adding one never touches this file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var commands []*cli.Command

// register adds a subcommand to the app. Call it from an init function.
func register(c *cli.Command) { commands = append(commands, c) }

func newApp() *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	return &cli.App{
		Name:                 "lsmqtt",
		Usage:                "secure, mobile MQTT-SN for battery-powered medical sensors",
		Version:              version,
		EnableBashCompletion: true,
		Flags:                globalFlags(),
		Before:               setupLogging,
		Commands:             commands,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "lsmqtt:", err)
		os.Exit(1)
	}
}
