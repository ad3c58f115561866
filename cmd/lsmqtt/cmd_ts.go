package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// `lsmqtt ts ...`: the Trusted System service and its registry tools. The
// logic lives in trust/registry, trust/ts and trust/tsclient.

func tsDBFlag() cli.Flag {
	return &cli.StringFlag{Name: "db", Value: "lsmqtt-ts.db", EnvVars: []string{"LSMQTT_TS_DB"},
		Usage: "registry file (bbolt, created with mode 0600)"}
}

func tsJSONFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", EnvVars: []string{"LSMQTT_TS_JSON"}, Usage: "machine-readable output"}
}

func init() {
	register(&cli.Command{
		Name:  "ts",
		Usage: "the Trusted System: registry of nodes, caregivers and gateways; key service",
		Subcommands: []*cli.Command{
			{
				Name:  "serve",
				Usage: "serve key requests and admission checks over UDP",
				Flags: []cli.Flag{
					tsDBFlag(),
					&cli.StringFlag{Name: "listen", Value: "127.0.0.1:1884", EnvVars: []string{"LSMQTT_TS_LISTEN"},
						Usage: "UDP address to listen on (host:port)"},
					&cli.DurationFlag{Name: "key-lifetime", Value: time.Hour, EnvVars: []string{"LSMQTT_TS_KEY_LIFETIME"},
						Usage: "validity of each issued payload key (its epoch)"},
					&cli.DurationFlag{Name: "key-retention", Value: 24 * time.Hour, EnvVars: []string{"LSMQTT_TS_KEY_RETENTION"},
						Usage: "how long caregivers may still fetch a key after it expired"},
					&cli.BoolFlag{Name: "allow-insecure-paper-xor", EnvVars: []string{"LSMQTT_TS_ALLOW_INSECURE"},
						Usage: "issue paper-xor keys when asked (INSECURE: only to reproduce the paper)"},
				},
				Action: runTSServe,
			},
			{
				Name:      "register",
				Usage:     "register a node, caregiver or gateway and write its credential file (mode 0600)",
				UsageText: "lsmqtt ts register --node ID --group PATIENT | --caregiver NAME | --gateway NAME [--out FILE]",
				Flags: []cli.Flag{
					tsDBFlag(), tsJSONFlag(),
					&cli.StringFlag{Name: "node", EnvVars: []string{"LSMQTT_TS_NODE"}, Usage: "node id (its MQTT-SN client id)"},
					&cli.StringFlag{Name: "group", EnvVars: []string{"LSMQTT_TS_GROUP"}, Usage: "the node's patient group"},
					&cli.StringFlag{Name: "caregiver", EnvVars: []string{"LSMQTT_TS_CAREGIVER"}, Usage: "caregiver name"},
					&cli.StringFlag{Name: "gateway", EnvVars: []string{"LSMQTT_TS_GATEWAY"}, Usage: "gateway name"},
					&cli.StringFlag{Name: "out", EnvVars: []string{"LSMQTT_TS_OUT"},
						Usage: "credential file to write (default NAME.cred next to the registry)"},
					&cli.StringFlag{Name: "ts-addr", Value: "127.0.0.1:1884", EnvVars: []string{"LSMQTT_TS_ADDR"},
						Usage: "TS address recorded in the credential file"},
					&cli.BoolFlag{Name: "force", EnvVars: []string{"LSMQTT_TS_FORCE"}, Usage: "overwrite an existing credential file"},
				},
				Action: runTSRegister,
			},
			{
				Name:      "grant",
				Usage:     "let a caregiver read a patient group's data",
				UsageText: "lsmqtt ts grant --caregiver NAME --group PATIENT",
				Flags: []cli.Flag{tsDBFlag(),
					&cli.StringFlag{Name: "caregiver", Required: true, EnvVars: []string{"LSMQTT_TS_CAREGIVER"}, Usage: "caregiver name"},
					&cli.StringFlag{Name: "group", Required: true, EnvVars: []string{"LSMQTT_TS_GROUP"}, Usage: "patient group"},
				},
				Action: func(c *cli.Context) error {
					return withRegistry(c, func(r *registry.Registry) error { return r.Grant(c.String("caregiver"), c.String("group")) })
				},
			},
			{
				Name:      "revoke",
				Usage:     "revoke a principal (no new keys, refused by gateways), or with --group a caregiver's grant",
				UsageText: "lsmqtt ts revoke NAME | lsmqtt ts revoke --caregiver NAME --group PATIENT",
				Flags: []cli.Flag{tsDBFlag(),
					&cli.StringFlag{Name: "caregiver", EnvVars: []string{"LSMQTT_TS_CAREGIVER"}, Usage: "caregiver whose grant to remove"},
					&cli.StringFlag{Name: "group", EnvVars: []string{"LSMQTT_TS_GROUP"}, Usage: "patient group to remove from the caregiver's access list"},
				},
				Action: runTSRevoke,
			},
			{
				Name:   "list",
				Usage:  "list principals (never their secrets), and with --keys the issued keys (never their material)",
				Flags:  []cli.Flag{tsDBFlag(), tsJSONFlag(), &cli.BoolFlag{Name: "keys", EnvVars: []string{"LSMQTT_TS_LIST_KEYS"}, Usage: "list issued keys too"}},
				Action: runTSList,
			},
		},
	})
}

func withRegistry(c *cli.Context, f func(*registry.Registry) error) error {
	r, err := registry.Open(c.String("db"), registry.Options{})
	if err != nil {
		return err
	}
	err = f(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return err
}

func runTSServe(c *cli.Context) error {
	return withRegistry(c, func(r *registry.Registry) error {
		svc, err := ts.NewService(ts.Config{Registry: r, KeyLifetime: c.Duration("key-lifetime"),
			KeyRetention: c.Duration("key-retention"), AllowInsecure: c.Bool("allow-insecure-paper-xor"), Logger: logger})
		if err != nil {
			return err
		}
		defer svc.Close()
		pc, err := net.ListenPacket("udp", c.String("listen"))
		if err != nil {
			return err
		}
		defer pc.Close()
		srv := ts.NewServer(svc)
		srv.NotifyStarted = func(a net.Addr) { logger.Info("trusted system serving", "addr", a.String(), "db", r.Path()) }
		return srv.Serve(c.Context, pc)
	})
}

// registered is what `ts register --json` prints (no secret).
type registered struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Sender     uint16 `json:"sender,omitempty"`
	Group      string `json:"group,omitempty"`
	Credential string `json:"credential_file"`
}

func runTSRegister(c *cli.Context) error {
	var kind, name string
	n := 0
	for _, k := range []string{"node", "caregiver", "gateway"} {
		if v := c.String(k); v != "" {
			kind, name = k, v
			n++
		}
	}
	if n != 1 {
		return errors.New("ts register: give exactly one of --node, --caregiver, --gateway")
	}
	if kind == "node" && c.String("group") == "" {
		return errors.New("ts register --node: --group (the patient group) is required")
	}
	out := c.String("out")
	if out == "" {
		out = filepath.Join(filepath.Dir(c.String("db")), name+".cred")
	}
	var res registered
	err := withRegistry(c, func(r *registry.Registry) error {
		var p *registry.Principal
		var err error
		switch kind {
		case "node":
			p, err = r.RegisterNode(name, c.String("group"))
		case "caregiver":
			p, err = r.RegisterCaregiver(name)
		default:
			p, err = r.RegisterGateway(name)
		}
		if err != nil {
			return err
		}
		defer p.Wipe()
		cred := &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: p.PSS, Sender: p.Sender, Group: p.Group, TS: c.String("ts-addr")}
		if err := tsclient.SaveCredentials(out, cred, c.Bool("force")); err != nil {
			// Do not leave a principal whose secret nobody has.
			if rerr := r.Revoke(p.Name); rerr != nil {
				logger.Warn("ts register: revoking after failed credential write", "err", rerr)
			}
			return fmt.Errorf("writing %s (the registration was revoked): %w", out, err)
		}
		res = registered{Name: p.Name, Kind: string(p.Kind), Sender: p.Sender, Group: p.Group, Credential: out}
		return nil
	})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return json.NewEncoder(c.App.Writer).Encode(res)
	}
	extra := ""
	if res.Kind == "node" {
		extra = fmt.Sprintf(" (device %d, group %s)", res.Sender, res.Group)
	}
	_, err = fmt.Fprintf(c.App.Writer, "registered %s %s%s; credentials in %s (mode 0600)\n", res.Kind, res.Name, extra, out)
	return err
}

func runTSRevoke(c *cli.Context) error {
	return withRegistry(c, func(r *registry.Registry) error {
		if cg := c.String("caregiver"); cg != "" {
			if c.String("group") == "" {
				return errors.New("ts revoke --caregiver: --group is required (to revoke the caregiver itself: ts revoke NAME)")
			}
			return r.Ungrant(cg, c.String("group"))
		}
		if c.NArg() != 1 {
			return errors.New("ts revoke: give the name to revoke")
		}
		return r.Revoke(c.Args().First())
	})
}

type listing struct {
	Principals []registry.Principal `json:"principals"`
	Keys       []registry.KeyRecord `json:"keys,omitempty"`
}

func runTSList(c *cli.Context) error {
	var l listing
	err := withRegistry(c, func(r *registry.Registry) error {
		var err error
		if l.Principals, err = r.List(); err != nil {
			return err
		}
		if c.Bool("keys") {
			l.Keys, err = r.Keys()
		}
		return err
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		return json.NewEncoder(w).Encode(l)
	}
	sort.Slice(l.Principals, func(i, j int) bool { return l.Principals[i].Name < l.Principals[j].Name })
	fmt.Fprintf(w, "%-24s %-9s %-7s %-6s %s\n", "NAME", "KIND", "STATUS", "DEVICE", "GROUP / ACCESS")
	for _, p := range l.Principals {
		dev, grp := "", p.Group
		if p.Kind == registry.KindNode {
			dev = fmt.Sprint(p.Sender)
		}
		if p.Kind == registry.KindCaregiver {
			grp = strings.Join(p.Access, ",")
		}
		fmt.Fprintf(w, "%-24s %-9s %-7s %-6s %s\n", p.Name, p.Kind, p.Status, dev, grp)
	}
	if c.Bool("keys") {
		fmt.Fprintf(w, "\n%-8s %-16s %-6s %-16s %s\n", "KEY", "OWNER", "SUITE", "GROUP", "NOT AFTER")
		for _, k := range l.Keys {
			fmt.Fprintf(w, "%-8d %-16s %-6d %-16s %s\n", k.ID, k.Owner, k.Suite, k.Group, k.NotAfter.Format(time.RFC3339))
		}
	}
	return nil
}
