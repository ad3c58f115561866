package area

import (
	"testing"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// The in-process key relay keeps gatewayauth's checks: a request from an
// address without an admitted session, or in another device's name, never
// reaches the Trusted System (the nil Service would panic if it did) and is
// not answered.
func TestKeyRelayRefusesUnadmitted(t *testing.T) {
	relay := KeyRelay(nil)
	for _, tc := range []struct{ name, client string }{
		{"no session", ""},
		{"another name", "patient-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answered := false
			relay(&gateway.ExtensionRequest{
				Msg:      &mqttsn.TSKeyRequest{Name: []byte("patient-1")},
				ClientID: tc.client,
				Reply:    func(mqttsn.Message) error { answered = true; return nil },
			})
			if answered {
				t.Fatal("the relay answered a request it should refuse")
			}
		})
	}
}
