package ts

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// maxDatagram is the largest TS datagram read; TS messages are < 200 octets.
const maxDatagram = 2048

// Server serves a Service on packet connections (UDP).
type Server struct {
	svc *Service
	// NotifyStarted, when set, is called once per Serve call when the
	// connection is being read (tests wait on it instead of sleeping).
	NotifyStarted func(addr net.Addr)
}

// NewServer returns a Server for svc.
func NewServer(svc *Service) *Server {
	return &Server{svc: svc}
}

// Serve reads TS requests from pc and answers each to its sender until ctx
// ends or pc fails. It returns nil when ctx ended. It does not close pc.
// Malformed datagrams and messages that are not TS requests are dropped
// and counted ("drop:<reason>" in Service.Stats).
func (s *Server) Serve(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() {
		pc.SetReadDeadline(time.Unix(1, 0)) // unblock ReadFrom
	})
	defer stop()
	if s.NotifyStarted != nil {
		s.NotifyStarted(pc.LocalAddr())
	}
	buf := make([]byte, maxDatagram)
	out := make([]byte, 0, maxDatagram)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		m, used, err := mqttsn.Decode(buf[:n])
		switch {
		case err != nil:
			s.svc.count("drop:malformed")
			s.svc.cfg.Logger.Debug("ts: malformed datagram", "from", addr, "err", err)
			continue
		case used != n:
			s.svc.count("drop:trailing")
			continue
		}
		resp, ok := s.svc.Handle(m)
		if !ok {
			continue
		}
		out, err = resp.AppendBinary(out[:0])
		if err != nil {
			s.svc.count("drop:encode")
			s.svc.cfg.Logger.Warn("ts: cannot encode answer", "err", err)
			continue
		}
		if _, err := pc.WriteTo(out, addr); err != nil {
			s.svc.count("drop:write")
			s.svc.cfg.Logger.Debug("ts: write", "to", addr, "err", err)
		}
	}
}
