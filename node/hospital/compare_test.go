package hospital

import "testing"

func TestVariants(t *testing.T) {
	base := &Scenario{Seed: 1}
	if err := base.Defaults(); err != nil {
		t.Fatal(err)
	}
	for what, want := range map[string][]string{
		"transport":          {TransportMesh, TransportUDP},
		"handover,reconnect": {HandoverSession, HandoverReconnect},
		"suites":             {"ascon128", "aes128-ccm8", "paper-xor"},
	} {
		vs, err := Variants(base, what)
		if err != nil || len(vs) != len(want) {
			t.Fatalf("%s: %d variants (%v)", what, len(vs), err)
		}
		for i, v := range vs {
			got := map[string]string{"transport": v.Scenario.Transport, "handover,reconnect": v.Scenario.Handover,
				"suites": v.Scenario.Suite}[what]
			if v.Label != want[i] || got != want[i] {
				t.Errorf("%s: variant %d is %q with %q, want %q", what, i, v.Label, got, want[i])
			}
		}
	}
	if base.Transport != TransportMesh || base.Handover != HandoverSession || base.Suite != "ascon128" {
		t.Fatalf("Variants changed the base scenario: %+v", base)
	}
	if _, err := Variants(base, "colours"); err == nil {
		t.Fatal("unknown comparison accepted")
	}
}
