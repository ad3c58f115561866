package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
)

// healthReport is the body of /healthz.
type healthReport struct {
	Status  string         `json:"status"` // "ok" or "degraded"
	Broker  string         `json:"broker"` // broker connection state
	Kind    string         `json:"broker_kind"`
	Queued  int            `json:"broker_queued"`
	Clients map[string]int `json:"clients"`
}

// gatewayHTTP serves /metrics, /healthz and, optionally, /debug/pprof.
// /healthz answers 200 while the broker connection is up and 503 otherwise
// (the gateway still accepts and queues messages then; a load balancer or
// systemd watchdog script decides what to do with that).
func gatewayHTTP(reg *prometheus.Registry, b gatewayBroker, kind string, g *gateway.Gateway, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		st := b.Stats()
		rep := healthReport{Status: "ok", Broker: st.State.String(), Kind: kind, Queued: st.Queued, Clients: g.Stats().Clients}
		code := http.StatusOK
		if st.State != broker.StateConnected {
			rep.Status, code = "degraded", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(rep)
	})
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// serveHTTP serves h on l until the returned server is shut down.
func serveHTTP(l net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return srv
}
