// Package inproc starts lsmqtt's own MQTT-SN gateway (package gateway) with
// the embedded mochi-mqtt broker (gateway/broker) on loopback, as a target
// for the load generator: `lsmqtt bench --embedded`, `make bench` and the
// loadgen integration tests. The gateway's UDP socket gets the same large
// buffers the raw ceiling's sink gets, so the two compare fairly.
package inproc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/loadgen"
)

// Config configures Start. The zero value is usable.
type Config struct {
	// Addr is the gateway's UDP address (default "127.0.0.1:0").
	Addr string
	// BrokerAddr is the embedded broker's MQTT TCP address (default
	// "127.0.0.1:0").
	BrokerAddr string
	// SockBuf is the gateway socket's receive and send buffer (default 8 MiB).
	SockBuf int
	// Sockets is how many UDP sockets the gateway serves on Addr, each with
	// its own receive loop (gateway.ListenUDP: SO_REUSEPORT, Linux). Default 1.
	Sockets int
	// Gateway is passed to gateway.New (Logger is filled from Logger).
	Gateway gateway.Config
	// Logger receives the gateway's logs, BrokerLogger the broker's; nil
	// discards them.
	Logger, BrokerLogger *slog.Logger
}

// Instance is a running gateway and broker.
type Instance struct {
	Gateway *gateway.Gateway
	Broker  *broker.Embedded
	reg     prometheus.Gatherer
	conns   []*net.UDPConn
	cancel  context.CancelFunc
	done    chan error // one value per served socket
	once    sync.Once
}

// Start starts a gateway and its embedded broker and returns once the
// gateway reads its socket.
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.BrokerAddr == "" {
		cfg.BrokerAddr = "127.0.0.1:0"
	}
	if cfg.SockBuf <= 0 {
		cfg.SockBuf = 8 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BrokerLogger == nil {
		cfg.BrokerLogger = slog.New(slog.DiscardHandler)
	}
	emb, err := broker.NewEmbedded(broker.EmbeddedConfig{TCPAddr: cfg.BrokerAddr, Logger: cfg.BrokerLogger})
	if err != nil {
		return nil, err
	}
	gcfg := cfg.Gateway
	gcfg.Logger = cfg.Logger
	var gather prometheus.Gatherer
	if gcfg.Registerer == nil {
		reg := prometheus.NewRegistry()
		gcfg.Registerer, gather = reg, reg
	} else if g, ok := gcfg.Registerer.(prometheus.Gatherer); ok {
		gather = g
	}
	if gcfg.AdvertiseInterval == 0 {
		gcfg.AdvertiseInterval = -1
	}
	started := make(chan struct{}, max(cfg.Sockets, 1))
	notify := gcfg.NotifyStarted
	gcfg.NotifyStarted = func(pc net.PacketConn) {
		if notify != nil {
			notify(pc)
		}
		started <- struct{}{}
	}
	gw, err := gateway.New(gcfg, emb)
	if err != nil {
		emb.Close()
		return nil, err
	}
	emb.SetDeliver(gw.Deliver)
	pcs, err := gateway.ListenUDP(ctx, "udp", cfg.Addr, cfg.Sockets)
	if err != nil {
		emb.Close()
		return nil, fmt.Errorf("inproc: gateway socket: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in := &Instance{Gateway: gw, Broker: emb, reg: gather, cancel: cancel, done: make(chan error, len(pcs))}
	for _, pc := range pcs {
		conn := pc.(*net.UDPConn)
		setBuf(conn, cfg.SockBuf)
		in.conns = append(in.conns, conn)
	}
	for _, conn := range in.conns {
		go func() { in.done <- gw.Serve(sctx, conn) }()
	}
	for range in.conns {
		select {
		case <-started:
		case err := <-in.done:
			in.done <- err
			in.Close()
			return nil, fmt.Errorf("inproc: gateway stopped at once: %v", err)
		}
	}
	return in, nil
}

// Addr is the gateway's UDP address.
func (in *Instance) Addr() string { return in.conns[0].LocalAddr().String() }

// BrokerURL is the embedded broker's MQTT URL.
func (in *Instance) BrokerURL() string { return "mqtt://" + in.Broker.TCPAddr() }

// Target describes the instance for loadgen.RunSuite; its Stop closes it.
func (in *Instance) Target() loadgen.Target {
	return loadgen.Target{Gateway: in.Addr(), Broker: in.BrokerURL(), Stop: func() { in.Close() }, Stats: in.Stats}
}

// Stats reads the gateway's PUBLISH-received and drop counters from its
// Prometheus metrics (lsmqtt_gateway_messages_in_total{type="PUBLISH"},
// lsmqtt_gateway_drops_total).
func (in *Instance) Stats() loadgen.GatewayStats {
	var st loadgen.GatewayStats
	if in.reg == nil {
		return st
	}
	mfs, err := in.reg.Gather()
	if err != nil {
		return st
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "lsmqtt_gateway_messages_in_total":
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "type" && l.GetValue() == "PUBLISH" {
						st.PublishIn += int64(m.GetCounter().GetValue())
					}
				}
			}
		case "lsmqtt_gateway_drops_total":
			for _, m := range mf.GetMetric() {
				st.Drops += int64(m.GetCounter().GetValue())
			}
		}
	}
	return st
}

// Close stops the gateway, then the broker, and closes the socket.
func (in *Instance) Close() error {
	in.once.Do(func() {
		in.cancel()
		in.Gateway.Close()
		for range in.conns {
			<-in.done
		}
		in.Broker.Close()
		for _, c := range in.conns {
			c.Close()
		}
	})
	return nil
}
