package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/trust/gatewayauth"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// `lsmqtt gateway`: the area gateway. The logic lives in gateway (MQTT-SN),
// gateway/broker (the MQTT side) and trust/gatewayauth (admission).

func init() {
	flags := gatewayFlags()
	register(&cli.Command{
		Name:  "gateway",
		Usage: "run an MQTT-SN gateway (UDP :1883) with an embedded or external MQTT broker",
		Description: "With no flags: MQTT-SN on UDP :1883 (IPv4 and IPv6) and an embedded MQTT broker on TCP :1883,\n" +
			"so `lsmqtt pub` or any MQTT-SN client can publish and `mosquitto_sub -t '#'` can watch.\n" +
			"Flags may also come from LSMQTT_GATEWAY_* variables and a TOML --config file; see docs/deploy.md.",
		Flags:  flags,
		Before: gatewayBefore(flags),
		Action: runGateway,
	})
}

// gatewayInfo is what a started gateway listens on.
type gatewayInfo struct {
	UDP     []net.Addr
	MQTT    string   // embedded broker's TCP listener, "" without
	Metrics string   // "" without
	Peer    net.Addr // handover peer socket, nil without --peer
}

// gatewayStarted, when set (by tests), is told the bound addresses once every
// listener is serving.
var gatewayStarted func(gatewayInfo)

// drainTimeout bounds how long a stopping gateway waits for an external
// broker to acknowledge what it has queued.
const drainTimeout = 5 * time.Second

func runGateway(c *cli.Context) error {
	o, err := gatewayOptionsFrom(c)
	if err != nil {
		return err
	}
	log := logger.With("component", "gateway")
	if o.stateFile != "" {
		st, err := gateway.OpenBoltStore(o.stateFile)
		if err != nil {
			return fmt.Errorf("--state: %w", err)
		}
		defer st.Close() // after g.Close (deferred later): the last write is done
		o.cfg.Store = st
	}

	b, kind, err := o.newBroker(logger, func(s broker.State) { log.Info("broker connection", "state", s.String()) })
	if err != nil {
		return err
	}
	defer b.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		broker.NewCollector(b, kind))

	cfg := o.cfg
	cfg.Logger = log
	cfg.Registerer = reg
	if o.tsAddr != "" {
		closeTS, err := gatewayAdmission(o, &cfg)
		if err != nil {
			return err
		}
		defer closeTS()
	}

	conns := make([]net.PacketConn, 0, len(o.listen))
	defer func() {
		for _, pc := range conns {
			pc.Close()
		}
	}()
	for _, a := range o.listen {
		pcs, err := gateway.ListenUDP(c.Context, "udp", a, o.sockets)
		if err != nil {
			return fmt.Errorf("--listen %s (--sockets %d): %w", a, o.sockets, err)
		}
		conns = append(conns, pcs...)
	}
	started := make(chan struct{}, len(conns))
	cfg.NotifyStarted = func(net.PacketConn) { started <- struct{}{} }

	g, err := gateway.New(cfg, b)
	if err != nil {
		return err
	}
	defer g.Close()
	b.SetDeliver(g.Deliver)

	info := gatewayInfo{}
	if e, ok := b.(*broker.Embedded); ok {
		info.MQTT = e.TCPAddr()
	}
	if o.metricsAddr != "" {
		l, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics %s: %w", o.metricsAddr, err)
		}
		srv := serveHTTP(l, gatewayHTTP(reg, b, kind, g, o.pprof))
		defer srv.Close()
		info.Metrics = l.Addr().String()
	}

	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	errs := make(chan error, len(conns))
	var wg sync.WaitGroup
	for _, pc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Serve(ctx, pc); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	for range conns {
		select {
		case <-started:
		case <-ctx.Done():
		}
	}
	for _, pc := range conns {
		info.UDP = append(info.UDP, pc.LocalAddr())
	}
	if cfg.Peering != nil {
		addr, stop, err := servePeers(ctx, g, o.peerListen)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		defer stop()
		info.Peer = addr
	}
	if ext, ok := b.(*broker.External); ok {
		// ResumeSession (--state): route what the resumed broker session
		// holds only once the restored clients' subscriptions are back.
		if err := g.AwaitRestored(ctx); err != nil && ctx.Err() == nil {
			log.Warn("restoring sessions", "err", err)
		}
		ext.Release()
	}
	log.Info("gateway running", "mqtt-sn", info.UDP, "broker", kind, "mqtt", info.MQTT, "metrics", info.Metrics, "peer", info.Peer)
	if gatewayStarted != nil && ctx.Err() == nil {
		gatewayStarted(info)
	}

	<-ctx.Done()
	log.Info("gateway stopping")
	g.Close()
	wg.Wait()
	if ext, ok := b.(*broker.External); ok {
		dctx, dcancel := context.WithTimeout(context.Background(), drainTimeout)
		if err := ext.AwaitDrained(dctx); err != nil {
			log.Warn("stopping with messages the broker has not acknowledged", "queued", ext.Stats().Queued)
		}
		dcancel()
	}
	close(errs)
	var serveErr error
	for err := range errs {
		serveErr = errors.Join(serveErr, err)
	}
	return serveErr
}

// gatewayAdmission wires Trusted System admission and the key relay into cfg.
func gatewayAdmission(o *gatewayOptions, cfg *gateway.Config) (func(), error) {
	creds, err := tsclient.LoadCredentials(o.tsCred)
	if err != nil {
		return nil, fmt.Errorf("--ts-cred: %w", err)
	}
	if creds.Kind != "gateway" {
		return nil, fmt.Errorf("--ts-cred %s: a %s credential, want a gateway's (lsmqtt ts register --gateway NAME)", o.tsCred, creds.Kind)
	}
	addr, err := net.ResolveUDPAddr("udp", o.tsAddr)
	if err != nil {
		return nil, fmt.Errorf("--ts %q: %w", o.tsAddr, err)
	}
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: addr, Logger: logger.With("component", "ts-client")})
	if err != nil {
		return nil, err
	}
	rv := &tsclient.RemoteVerifier{Client: tsc, Creds: creds}
	cfg.Authenticator = &gatewayauth.Authenticator{
		Gateway:  creds.Name,
		Verifier: rv,
		Logger:   logger.With("component", "admission"),
	}
	if err := peeringAdmission(cfg.Peering, creds, rv); err != nil { // gateway_peering.go
		tsc.Close()
		return nil, err
	}
	cfg.Extensions = (&gatewayauth.KeyRelay{Client: tsc, Logger: logger.With("component", "key-relay")}).Extensions()
	cfg.DenyQoSMinus1 = true // QoS -1 needs no connection, so it would bypass admission (MQTT-SN v1.2 §6.8)
	return func() { tsc.Close(); creds.Wipe() }, nil
}
