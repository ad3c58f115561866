package border

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// TestOverZEPUDP runs the process form on the real clock: a medium served
// over loopback UDP (as `lsmqtt medium` does), and a border router and
// three nodes whose radios are ZEP/UDP sockets. Each node retries its
// datagram every 200 ms, as an MQTT-SN client retransmits, until the
// gateway's echo comes back.
func TestOverZEPUDP(t *testing.T) {
	m := medium.New(medium.Config{Range: 50, Seed: 1})
	defer m.Close()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	started := make(chan struct{})
	go func() { served <- m.ServeUDP(ctx, conn, started) }()
	<-started
	maddr := conn.LocalAddr().(*net.UDPAddr)
	fast := dodag.Config{DIOIntervalMin: 8, DISStartDelay: 100 * time.Millisecond, DAODelay: 100 * time.Millisecond}

	radio := func(mac ieee802154.ExtAddr, x float64) medium.Radio {
		m.SetPosition(ieee802154.Ext(mac), medium.Position{X: x})
		r, err := medium.DialZEP(medium.ZEPRadioConfig{Medium: maddr, DeviceID: uint16(mac[7])})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	br, err := New(Config{Prefix: netip.MustParsePrefix("fd00:7::/64"), Addr: nodeMAC(7, 0),
		Radio: radio(nodeMAC(7, 0), 0), RPL: fast, Stack: stack.Config{AckWait: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	e := startEcho(t, br.PacketConn())
	var nodes []*stack.Stack
	for i := 1; i <= 3; i++ {
		s, err := stack.New(stack.Config{Addr: nodeMAC(7, i), Radio: radio(nodeMAC(7, i), float64(35*i)),
			Seed: uint64(i), RPL: fast, AckWait: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		nodes = append(nodes, s)
	}
	done := make(chan error, len(nodes))
	for i, s := range nodes {
		go func() {
			c, err := s.ListenUDP(0)
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			msg := []byte(fmt.Sprintf("node %d", i+1))
			buf := make([]byte, 100)
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			timeout := time.After(30 * time.Second)
			got := make(chan []byte, 1)
			go func() {
				for {
					n, _, err := c.ReadFrom(buf)
					if err != nil {
						return
					}
					if bytes.Equal(buf[:n], echoPrefix(msg)) {
						got <- buf[:n]
						return
					}
				}
			}()
			for {
				select {
				case <-got:
					done <- nil
					return
				case <-timeout:
					done <- fmt.Errorf("node %d: no echo over ZEP/UDP: %+v", i+1, s.Status())
					return
				case <-tick.C:
					if root, ok := s.Root(); ok {
						c.WriteTo(msg, net.UDPAddrFromAddrPort(netip.AddrPortFrom(root, DefaultGatewayPort)))
					}
				}
			}
		}()
	}
	for range nodes {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	hops := 0
	for _, rt := range br.Routes() {
		hops = max(hops, rt.Hops)
	}
	if hops != 3 {
		t.Errorf("deepest route %d hops, want 3 (a line)", hops)
	}
	st := m.Stats()
	if st.Frames == 0 || len(st.Nodes) != 4 {
		t.Errorf("medium saw %d frames from %d nodes", st.Frames, len(st.Nodes))
	}
	br.PacketConn().Close()
	<-e.done
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
