package tsclient

import (
	"bytes"
	"context"
	"errors"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/keywrap"
)

// KeyExchanger carries one TS-KEYREQ and its answers: a Client straight to
// the TS over UDP, or a node's MQTT-SN client through its gateway. It sends
// req (again on its own timeouts) and passes every TS-KEYRESP carrying
// req's nonce to accept until accept reports done, then returns accept's
// error; it gives up with an error wrapping ErrTimeout.
type KeyExchanger interface {
	ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (done bool, err error)) error
}

// ExchangeKey implements KeyExchanger over RoundTrip.
func (c *Client) ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (bool, error)) error {
	return c.RoundTrip(ctx, req, req.Nonce, func(m mqttsn.Message) (bool, error) {
		r, ok := m.(*mqttsn.TSKeyResponse)
		if !ok {
			return false, nil
		}
		return accept(r)
	})
}

// exchange runs one keywrap.Request over x: answers that an attacker could
// have sent (stale, not ours, unauthenticated, forged) are ignored and the
// wait goes on; an authentic answer ends it.
func exchange(ctx context.Context, x KeyExchanger, c clock.Clock, r *keywrap.Request, opt aead.Options) (*envelope.Key, error) {
	defer r.Wipe()
	msg, err := r.Message()
	if err != nil {
		return nil, err
	}
	var key *envelope.Key
	err = x.ExchangeKey(ctx, msg, func(resp *mqttsn.TSKeyResponse) (bool, error) {
		k, err := r.Accept(resp, c.Now(), opt)
		switch {
		case err == nil:
			key = k
			return true, nil
		case errors.Is(err, keywrap.ErrNotForMe), errors.Is(err, keywrap.ErrStale),
			errors.Is(err, keywrap.ErrUnauthenticated), errors.Is(err, keywrap.ErrForged),
			errors.Is(err, keywrap.ErrAnswered):
			return false, err
		default: // an authentic refusal, mismatch or expired key
			return true, err
		}
	})
	return key, err
}

// RequestKey asks the TS, through x, for a fresh session key of suite for
// the node described by creds.
func RequestKey(ctx context.Context, x KeyExchanger, c clock.Clock, creds *Credentials, suite *aead.Suite, opt aead.Options) (*envelope.Key, error) {
	r, err := keywrap.NewKeyRequest(creds.PSS, creds.Name, creds.Group, suite.ID())
	if err != nil {
		return nil, err
	}
	return exchange(ctx, x, c, r, opt)
}

// FetchKey asks the TS, through x, for the existing key keyID of group,
// for the caregiver described by creds.
func FetchKey(ctx context.Context, x KeyExchanger, c clock.Clock, creds *Credentials, group string, keyID uint32) (*envelope.Key, error) {
	r, err := keywrap.NewFetchRequest(creds.PSS, creds.Name, group, keyID)
	if err != nil {
		return nil, err
	}
	return exchange(ctx, x, c, r, aead.Options{AllowInsecure: true})
}

// Requester is what SNExchanger needs of an MQTT-SN client
// (mqttsn/client.Client has it): send m to the gateway, retransmitting, and
// return the first message match accepts.
type Requester interface {
	Request(ctx context.Context, m mqttsn.Message, match func(mqttsn.Message) bool) (mqttsn.Message, error)
}

// SNExchanger carries a node's key requests through its gateway (which
// relays them to the TS) over the node's MQTT-SN client.
type SNExchanger struct{ Client Requester }

// ExchangeKey implements KeyExchanger.
func (x SNExchanger) ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (bool, error)) error {
	var result error
	_, err := x.Client.Request(ctx, req, func(m mqttsn.Message) bool {
		r, ok := m.(*mqttsn.TSKeyResponse)
		if !ok || !bytes.Equal(r.ReqNonce, req.Nonce) {
			return false
		}
		done, err := accept(r)
		if done {
			result = err
		}
		return done
	})
	if err != nil {
		return err
	}
	return result
}
