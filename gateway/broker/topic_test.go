package broker

import (
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

func TestMatchFilter(t *testing.T) {
	// Examples from MQTT v3.1.1 §4.7.1.2, §4.7.1.3 and §4.7.2.
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"sport/tennis/player1/#", "sport/tennis/player1", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
		{"sport/#", "sport", true},
		{"#", "sport/tennis", true},
		{"sport/tennis/+", "sport/tennis/player1", true},
		{"sport/tennis/+", "sport/tennis/player1/ranking", false},
		{"sport/+", "sport", false},
		{"sport/+", "sport/", true},
		{"+/+", "/finance", true},
		{"/+", "/finance", true},
		{"+", "/finance", false},
		{"#", "$SYS/broker", false},
		{"+/monitor/Clients", "$SYS/monitor/Clients", false},
		{"$SYS/#", "$SYS/monitor/Clients", true},
		{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"$share/g/a/+", "a/b", true},
		{"$share/g/a/+", "b/b", false},
	}
	for _, tt := range tests {
		if got := MatchFilter(tt.filter, tt.topic); got != tt.want {
			t.Errorf("MatchFilter(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestValidFilterAndTopic(t *testing.T) {
	for _, f := range []string{"a", "a/b", "+", "#", "a/+/c", "a/#", "+/+", "/", "$SYS/#"} {
		if !ValidFilter(f) {
			t.Errorf("ValidFilter(%q) = false", f)
		}
	}
	for _, f := range []string{"", "a#", "a/#/b", "a+", "a/b+/c", "#/", "x\x00y", "\xff"} {
		if ValidFilter(f) {
			t.Errorf("ValidFilter(%q) = true", f)
		}
	}
	for _, n := range []string{"a", "a/b", "/", "$SYS/x"} {
		if !ValidTopicName(n) {
			t.Errorf("ValidTopicName(%q) = false", n)
		}
	}
	for _, n := range []string{"", "a/+", "#", "a\x00", "\xc3"} {
		if ValidTopicName(n) {
			t.Errorf("ValidTopicName(%q) = true", n)
		}
	}
}

func TestMatchFilterAllocs(t *testing.T) {
	testutil.AssertAllocs(t, 0, func() {
		if !MatchFilter("ward/+/bed/#", "ward/3/bed/12/hr") {
			t.Fatal("no match")
		}
	})
}

func BenchmarkMatchFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		MatchFilter("ward/+/bed/#", "ward/3/bed/12/hr")
	}
}

// FuzzMatchFilter checks the topic functions on arbitrary network strings:
// no panic, and the properties MQTT v3.1.1 §4.7 implies.
func FuzzMatchFilter(f *testing.F) {
	for _, s := range [][2]string{
		{"sport/tennis/player1/#", "sport/tennis/player1"},
		{"sport/+", "sport/"},
		{"+/monitor/Clients", "$SYS/monitor/Clients"},
		{"$share/g/a/+", "a/b"},
		{"#", "/"},
		{"a/#/b", "a/x/b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		m := MatchFilter(filter, topic)
		if !ValidTopicName(topic) {
			return
		}
		if !MatchFilter(topic, topic) {
			t.Fatalf("topic %q does not match itself", topic)
		}
		if MatchFilter("#", topic) == (topic[0] == '$') {
			t.Fatalf("# vs %q", topic)
		}
		if m && ValidFilter(filter) && !strings.HasPrefix(filter, "$share/") {
			// every level of a matching filter is the topic's level or a wildcard
			fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
			for i, l := range fl {
				if l == "#" {
					break
				}
				if i >= len(tl) || (l != "+" && l != tl[i]) {
					t.Fatalf("MatchFilter(%q, %q) = true", filter, topic)
				}
			}
		}
	})
}
