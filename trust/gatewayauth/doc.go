// Package gatewayauth plugs the Trusted System into the gateway's two seams
// (gateway.Authenticator and gateway.ExtensionHandler):
//
//   - Authenticator admits a connecting client only after it proved, with a
//     MAC over a fresh challenge, that it holds its registered pre-shared
//     secret, and the TS confirmed it is a registered, non-revoked node. The
//     gateway never sees the secret.
//   - KeyRelay forwards admitted nodes' TS-KEYREQ to the TS over UDP and the
//     TS's TS-KEYRESP back; the wrapped keys pass through unreadable.
//
// Wiring (what `lsmqtt gateway` does when admission is on):
//
//	tsc, _ := tsclient.NewClient(tsclient.ClientConfig{TS: tsAddr})
//	gwCreds, _ := tsclient.LoadCredentials("gw-ward3.cred")
//	cfg.Authenticator = &gatewayauth.Authenticator{Gateway: gwCreds.Name,
//		Verifier: &tsclient.RemoteVerifier{Client: tsc, Creds: gwCreds}}
//	cfg.Extensions = (&gatewayauth.KeyRelay{Client: tsc}).Extensions()
//
// With the TS in the gateway's process, Verifier can be ts.Service.Verifier()
// and no gateway credential is needed (the relay still needs the TS's UDP
// address, which may be a loopback port of the same process).
package gatewayauth
