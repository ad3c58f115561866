package area

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/rpl/border"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/trust/gatewayauth"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Config configures an Area. At least one of UDP and Mesh must be set.
type Config struct {
	// Number is the area's number (1–255): its mesh prefix is
	// fd00:<number>::/64 and its border router's MAC RouterMAC(number).
	// Default 1.
	Number int
	// Name is the gateway's name (default "gw-area<Number>").
	Name string

	// UDP serves the gateway on a UDP socket at UDPAddr (default
	// 127.0.0.1:0).
	UDP     bool
	UDPAddr string

	// Mesh adds a border router on Medium (or, when nil, on a new medium
	// built from MediumConfig, owned by the area) at RouterPosition; the
	// gateway serves the router's PacketConn.
	Mesh           bool
	Medium         *medium.Medium
	MediumConfig   medium.Config
	RouterPosition medium.Position
	RPL            dodag.Config

	// TS runs a Trusted System in process with its registry at
	// RegistryPath (required then): the gateway admits only registered
	// nodes and relays their key requests to it.
	TS           bool
	RegistryPath string
	// SharedTS, with TS, is a Trusted System shared with other areas (one
	// hospital, one TS): the area uses it and its registry instead of
	// starting its own (RegistryPath unused) and does not close them.
	SharedTS       *ts.Service
	SharedRegistry *registry.Registry
	KeyLifetime    time.Duration // default 1 hour
	AllowInsecure  bool          // let nodes obtain paper-xor keys

	// Gateway tunes the gateway (Clock, Logger, Authenticator, Extensions
	// and NotifyStarted are filled in).
	Gateway gateway.Config
	// PeerConn, with Gateway.Peering, is the gateway's socket for its
	// peers (session handover, docs/protocol.md "Handover"): the area
	// serves it (gateway.ServePeers) and closes it on Close.
	PeerConn net.PacketConn
	// BrokerTCP, if set, is the embedded broker's MQTT listener address.
	BrokerTCP string

	Clock  clock.Clock
	Logger *slog.Logger
}

// Area is a running area.
type Area struct {
	cfg      Config
	Clock    clock.Clock
	Gateway  *gateway.Gateway
	Broker   *broker.Embedded
	Medium   *medium.Medium // nil without a mesh
	Router   *border.Router // nil without a mesh
	Registry *registry.Registry
	TS       *ts.Service

	udp       *net.UDPConn
	ownMedium bool
	sharedTS  bool
	cancel    context.CancelFunc
	serving   sync.WaitGroup
	once      sync.Once
	subID     int
	subMu     sync.Mutex
}

// RouterMAC is the border router's EUI-64 in area n.
func RouterMAC(n int) ieee802154.ExtAddr {
	return ieee802154.ExtAddr{0x02, 0, 0, 0, 0, byte(n), 0, 0}
}

// Prefix is the mesh prefix of area n.
func Prefix(n int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("fd00:%x::/64", n))
}

// Start starts an area.
func Start(ctx context.Context, cfg Config) (a *Area, err error) {
	if !cfg.UDP && !cfg.Mesh {
		return nil, errors.New("area: neither UDP nor Mesh")
	}
	if cfg.Number == 0 {
		cfg.Number = 1
	}
	if cfg.Number < 1 || cfg.Number > 255 {
		return nil, fmt.Errorf("area: number %d not in 1-255", cfg.Number)
	}
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("gw-area%d", cfg.Number)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UDPAddr == "" {
		cfg.UDPAddr = "127.0.0.1:0"
	}
	a = &Area{cfg: cfg, Clock: cfg.Clock, subID: 1 << 30}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	gcfg := cfg.Gateway
	gcfg.Clock, gcfg.Logger = cfg.Clock, cfg.Logger.With("part", "gateway")
	if gcfg.Registerer == nil {
		gcfg.Registerer = prometheus.NewRegistry()
	}
	if gcfg.AdvertiseInterval == 0 {
		gcfg.AdvertiseInterval = -1
	}
	if cfg.TS && cfg.SharedTS != nil {
		if cfg.SharedRegistry == nil {
			return nil, errors.New("area: SharedTS needs its SharedRegistry")
		}
		a.TS, a.Registry, a.sharedTS = cfg.SharedTS, cfg.SharedRegistry, true
	}
	if cfg.TS {
		if a.TS == nil {
			if cfg.RegistryPath == "" {
				return nil, errors.New("area: TS needs a RegistryPath")
			}
			if a.Registry, err = registry.Open(cfg.RegistryPath, registry.Options{Clock: cfg.Clock}); err != nil {
				return nil, err
			}
			a.TS, err = ts.NewService(ts.Config{Registry: a.Registry, KeyLifetime: cfg.KeyLifetime,
				AllowInsecure: cfg.AllowInsecure, Clock: cfg.Clock, Logger: cfg.Logger.With("part", "ts")})
			if err != nil {
				return nil, err
			}
		}
		gcfg.Authenticator = &gatewayauth.Authenticator{Gateway: cfg.Name, Verifier: a.TS.Verifier(),
			Logger: cfg.Logger.With("part", "admission")}
		ext := map[byte]gateway.ExtensionHandler{}
		for k, v := range gcfg.Extensions {
			ext[k] = v
		}
		ext[byte(mqttsn.TypeTSKeyRequest)] = KeyRelay(a.TS)
		gcfg.Extensions = ext
	}
	started := make(chan struct{}, 2)
	gcfg.NotifyStarted = func(net.PacketConn) { started <- struct{}{} }
	if a.Broker, err = broker.NewEmbedded(broker.EmbeddedConfig{TCPAddr: cfg.BrokerTCP, Clock: cfg.Clock,
		Logger: cfg.Logger.With("part", "broker")}); err != nil {
		return nil, err
	}
	if a.Gateway, err = gateway.New(gcfg, a.Broker); err != nil {
		return nil, err
	}
	a.Broker.SetDeliver(a.Gateway.Deliver)

	var conns []net.PacketConn
	if cfg.UDP {
		ua, err := net.ResolveUDPAddr("udp", cfg.UDPAddr)
		if err != nil {
			return nil, err
		}
		if a.udp, err = net.ListenUDP("udp", ua); err != nil {
			return nil, err
		}
		conns = append(conns, a.udp)
	}
	if cfg.Mesh {
		a.Medium = cfg.Medium
		if a.Medium == nil {
			mc := cfg.MediumConfig
			mc.Clock = cfg.Clock
			if mc.Logger == nil {
				mc.Logger = cfg.Logger.With("part", "medium")
			}
			a.Medium, a.ownMedium = medium.New(mc), true
		}
		mac := RouterMAC(cfg.Number)
		port, err := a.Medium.Attach(ieee802154.Ext(mac), uint16(cfg.Number)<<8)
		if err != nil {
			return nil, err
		}
		a.Medium.SetPosition(ieee802154.Ext(mac), cfg.RouterPosition)
		if a.Router, err = border.New(border.Config{Prefix: Prefix(cfg.Number), Addr: mac, Radio: port,
			Clock: cfg.Clock, Seed: uint64(cfg.Number) * 7919, RPL: cfg.RPL,
			Logger: cfg.Logger.With("part", "router")}); err != nil {
			port.Close()
			return nil, err
		}
		conns = append(conns, a.Router.PacketConn())
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	for _, pc := range conns {
		a.serving.Add(1)
		go func() {
			defer a.serving.Done()
			if err := a.Gateway.Serve(sctx, pc); err != nil {
				cfg.Logger.Warn("area: gateway stopped serving", "err", err)
			}
		}()
	}
	for range conns {
		select {
		case <-started:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if cfg.PeerConn != nil && gcfg.Peering != nil {
		a.serving.Add(1)
		go func() {
			defer a.serving.Done()
			if err := a.Gateway.ServePeers(sctx, cfg.PeerConn); err != nil && sctx.Err() == nil {
				cfg.Logger.Warn("area: gateway stopped serving peers", "err", err)
			}
		}()
	}
	return a, nil
}

// Number is the area's number.
func (a *Area) Number() int { return a.cfg.Number }

// Name is the gateway's name.
func (a *Area) Name() string { return a.cfg.Name }

// UDPAddr is the gateway's UDP address ("" without UDP).
func (a *Area) UDPAddr() string {
	if a.udp == nil {
		return ""
	}
	return a.udp.LocalAddr().String()
}

// RegisterNode registers a node in the area's TS and returns its
// credentials (the PSS copied; the registry's copy is wiped).
func (a *Area) RegisterNode(name, group string) (*tsclient.Credentials, error) {
	if a.Registry == nil {
		return nil, errors.New("area: no Trusted System")
	}
	p, err := a.Registry.RegisterNode(name, group)
	if err != nil {
		return nil, err
	}
	defer p.Wipe()
	return &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: append([]byte(nil), p.PSS...),
		Sender: p.Sender, Group: p.Group}, nil
}

// Close stops everything the area started. It is idempotent.
func (a *Area) Close() error {
	a.once.Do(func() {
		if a.cancel != nil {
			a.cancel()
		}
		if a.Gateway != nil {
			a.Gateway.Close()
		}
		a.serving.Wait()
		if a.Router != nil {
			a.Router.Close()
		}
		if a.Medium != nil && a.ownMedium {
			a.Medium.Close()
		}
		if a.Broker != nil {
			a.Broker.Close()
		}
		if a.udp != nil {
			a.udp.Close()
		}
		if a.cfg.PeerConn != nil {
			a.cfg.PeerConn.Close()
		}
		if a.TS != nil && !a.sharedTS {
			a.TS.Close()
		}
		if a.Registry != nil && !a.sharedTS {
			a.Registry.Close()
		}
	})
	return nil
}
