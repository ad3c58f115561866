package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// `lsmqtt gateway` handover flags: this gateway's name, its peers and their
// keys, and the UDP socket peers talk to (gateway/peering.go,
// docs/protocol.md "Handover").

// DefaultPeerListen is the peer socket's default address.
const DefaultPeerListen = ":1884"

func peeringFlags() []cli.Flag {
	env := gwEnv
	return []cli.Flag{
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "peer", EnvVars: env("peer"),
			Usage: "neighbour gateway NAME=ADDR (its --peer-listen address) for session handover (repeatable); keys from --peer-keys"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "name", EnvVars: env("name"),
			Usage: "this gateway's name for handover (default with --ts: the name in --ts-cred)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "peer-listen", Value: DefaultPeerListen, EnvVars: env("peer-listen"),
			Usage: "UDP address peers send handover messages to (with --peer)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "peer-keys", EnvVars: env("peer-keys"),
			Usage: "file (mode 0600) of lines \"NAME HEXKEY\": the key shared with each peer (at least 16 octets, from crypto/rand)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "token-ttl", Value: time.Hour, EnvVars: env("token-ttl"),
			Usage: "how long a node's session token stays valid"}),
	}
}

// peeringFrom builds the peering configuration from the flags, or nil
// without --peer.
func peeringFrom(c *cli.Context) (*gateway.PeeringConfig, error) {
	peers := c.StringSlice("peer")
	if len(peers) == 0 {
		return nil, nil
	}
	if c.String("peer-keys") == "" {
		return nil, errors.New("--peer needs --peer-keys FILE")
	}
	keys, err := loadPeerKeys(c.String("peer-keys"))
	if err != nil {
		return nil, err
	}
	if c.Duration("token-ttl") <= 0 {
		return nil, fmt.Errorf("--token-ttl %v: must be positive", c.Duration("token-ttl"))
	}
	p := &gateway.PeeringConfig{Name: c.String("name"), TokenTTL: c.Duration("token-ttl")}
	for _, s := range peers {
		name, addr, ok := strings.Cut(s, "=")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("--peer %q: want NAME=ADDR", s)
		}
		if _, err := net.ResolveUDPAddr("udp", addr); err != nil {
			return nil, fmt.Errorf("--peer %q: %w", s, err)
		}
		k, ok := keys[name]
		if !ok {
			return nil, fmt.Errorf("--peer %s: no key for it in %s", name, c.String("peer-keys"))
		}
		p.Peers = append(p.Peers, gateway.Peer{Name: name, Addr: addr, Key: k})
	}
	return p, nil
}

// loadPeerKeys reads "NAME HEXKEY" lines ('#' starts a comment). The file
// must not be readable by group or others.
func loadPeerKeys(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--peer-keys: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--peer-keys: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("--peer-keys %s: mode %v, want 0600 (the keys are secret)", path, st.Mode().Perm())
	}
	keys := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("--peer-keys %s:%d: want NAME HEXKEY", path, n)
		}
		k, err := hex.DecodeString(fields[1])
		if err != nil || len(k) < 16 {
			return nil, fmt.Errorf("--peer-keys %s:%d: key of %s is not 16 or more hex octets", path, n, fields[0])
		}
		keys[fields[0]] = k
	}
	return keys, sc.Err()
}

// peeringAdmission gives handover the TS verifier and this gateway's
// registered name (resumes are checked against the same name admission
// binds proofs to).
func peeringAdmission(p *gateway.PeeringConfig, creds *tsclient.Credentials, v tsclient.Verifier) error {
	if p == nil {
		return nil
	}
	if p.Name == "" {
		p.Name = creds.Name
	} else if p.Name != creds.Name {
		return fmt.Errorf("--name %s: with --ts it must be the registered name %s", p.Name, creds.Name)
	}
	p.Verifier = proofVerifier{v}
	return nil
}

// proofVerifier adapts a TS verifier to gateway.ProofVerifier.
type proofVerifier struct{ v tsclient.Verifier }

func (p proofVerifier) VerifyProof(ctx context.Context, gw, id string, ch, proof []byte) error {
	v, err := p.v.VerifyAdmission(ctx, gw, id, ch, proof)
	if err != nil {
		return err
	}
	if !v.Admitted() {
		return fmt.Errorf("%w: %v", gateway.ErrNotAdmitted, v.Status)
	}
	return nil
}

// servePeers opens the peer socket and serves it until ctx ends or the
// gateway closes; stop waits for that and closes the socket.
func servePeers(ctx context.Context, g *gateway.Gateway, listen string) (addr net.Addr, stop func(), err error) {
	pc, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, nil, fmt.Errorf("--peer-listen %s: %w", listen, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.ServePeers(ctx, pc); err != nil {
			logger.Error("peer socket", "err", err)
		}
	}()
	return pc.LocalAddr(), func() { <-done; pc.Close() }, nil
}
