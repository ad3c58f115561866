package main

import (
	"strings"
	"testing"
)

// --max-half-open reaches gateway.Config.MaxHalfOpen; 0 (the default)
// leaves it to the gateway; a negative value is refused.
func TestGatewayMaxHalfOpenFlag(t *testing.T) {
	o, err := parseGatewayArgs("--max-half-open", "7")
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.MaxHalfOpen != 7 {
		t.Fatalf("MaxHalfOpen %d, want 7", o.cfg.MaxHalfOpen)
	}
	if o, err = parseGatewayArgs(); err != nil || o.cfg.MaxHalfOpen != 0 {
		t.Fatalf("default: %d, %v", o.cfg.MaxHalfOpen, err)
	}
	if _, err := parseGatewayArgs("--max-half-open", "-1"); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Fatalf("--max-half-open -1: %v", err)
	}
}
