package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// ListenUDP opens n UDP sockets on one address for Serve, so that n receive
// loops read the gateway's traffic, each on its own socket: with n > 1 they
// are bound with SO_REUSEPORT (Linux), and the kernel spreads the clients
// over them by a hash of each client's address and port. A client's
// datagrams therefore always arrive on the same socket, in order, and the
// gateway answers it on that socket (Serve answers on the conn a client
// wrote to). Each socket gets its own read loop and its own reply batch,
// with no hand-off between goroutines on the way to the broker.
//
// address may have port 0: the first socket's port is then used for the
// others. Only processes of the same user can bind a port already bound
// with SO_REUSEPORT (Linux), so another user cannot take a share of the
// gateway's traffic. n <= 1 opens one ordinary socket. Elsewhere than
// Linux, n > 1 is an error.
func ListenUDP(ctx context.Context, network, address string, n int) ([]net.PacketConn, error) {
	if n <= 1 {
		pc, err := (&net.ListenConfig{}).ListenPacket(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return []net.PacketConn{pc}, nil
	}
	if !reusePortSupported {
		return nil, errors.New("gateway: several sockets on one port need SO_REUSEPORT (Linux)")
	}
	lc := net.ListenConfig{Control: setReusePort}
	pcs := make([]net.PacketConn, 0, n)
	fail := func(err error) ([]net.PacketConn, error) {
		for _, pc := range pcs {
			pc.Close()
		}
		return nil, err
	}
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(ctx, network, address)
		if err != nil {
			return fail(fmt.Errorf("gateway: socket %d of %d on %s: %w", i+1, n, address, err))
		}
		if i == 0 {
			address = pc.LocalAddr().String() // port 0: the others join the port it got
		}
		pcs = append(pcs, pc)
	}
	return pcs, nil
}
