package keywrap

import "github.com/lsmqtt/lsmqtt/mqttsn"

func proofData(challenge []byte, gateway, clientID string) []byte {
	b := make([]byte, 0, len(labelProof)+len(challenge)+2+len(gateway)+len(clientID))
	b = append(b, labelProof...)
	b = append(b, challenge...)
	b = append(append(b, byte(len(gateway))), gateway...)
	return append(append(b, byte(len(clientID))), clientID...)
}

// Prove computes a node's TS-PROOF Proof for a gateway's challenge:
// HMAC(K_admit, "lsmqtt/v1 proof" ‖ Challenge ‖ len ‖ GwName ‖ len ‖ ClientId).
func Prove(pss, challenge []byte, gateway, clientID string) ([]byte, error) {
	k, err := AdmitKey(pss, clientID)
	if err != nil {
		return nil, err
	}
	defer Wipe(k)
	return MAC(nil, k, proofData(challenge, gateway, clientID)), nil
}

// CheckProof reports whether proof is the node's proof for challenge (TS side).
func CheckProof(pss, challenge []byte, gateway, clientID string, proof []byte) bool {
	k, err := AdmitKey(pss, clientID)
	if err != nil {
		return false
	}
	defer Wipe(k)
	return VerifyMAC(k, proofData(challenge, gateway, clientID), proof)
}

// SignAdmitRequest sets m.MAC under the gateway's K_req.
func SignAdmitRequest(gwPSS []byte, m *mqttsn.TSAdmitRequest) error {
	k, err := RequestKey(gwPSS, string(m.Gateway))
	if err != nil {
		return err
	}
	defer Wipe(k)
	m.MAC = MAC(nil, k, m.AppendAuthData(nil))
	return nil
}

// VerifyAdmitRequest checks m.MAC under the gateway's K_req (TS side).
func VerifyAdmitRequest(gwPSS []byte, m *mqttsn.TSAdmitRequest) bool {
	k, err := RequestKey(gwPSS, string(m.Gateway))
	if err != nil {
		return false
	}
	defer Wipe(k)
	return VerifyMAC(k, m.AppendAuthData(nil), m.MAC)
}

// SignAdmitResponse sets m.MAC under the gateway's K_req (TS side).
func SignAdmitResponse(gwPSS []byte, gateway string, m *mqttsn.TSAdmitResponse) error {
	k, err := RequestKey(gwPSS, gateway)
	if err != nil {
		return err
	}
	defer Wipe(k)
	m.MAC = MAC(nil, k, m.AppendAuthData(nil))
	return nil
}

// VerifyAdmitResponse checks m.MAC under the gateway's K_req (gateway side).
func VerifyAdmitResponse(gwPSS []byte, gateway string, m *mqttsn.TSAdmitResponse) bool {
	k, err := RequestKey(gwPSS, gateway)
	if err != nil {
		return false
	}
	defer Wipe(k)
	return VerifyMAC(k, m.AppendAuthData(nil), m.MAC)
}
