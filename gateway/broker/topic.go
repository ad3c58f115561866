package broker

import (
	"strings"
	"unicode/utf8"
)

// ValidTopicName reports whether name may be published to: non-empty, valid
// UTF-8 without U+0000, at most 65535 bytes, and free of the wildcards + and #.
// MQTT v3.1.1 §4.7.1.1, §4.7.3; MQTT v5.0 §4.7.3.
func ValidTopicName(name string) bool {
	if !validTopicString(name) {
		return false
	}
	return !strings.ContainsAny(name, "+#")
}

// ValidFilter reports whether filter is a well-formed MQTT topic filter:
// + occupies a whole level, # occupies the last level only.
// MQTT v3.1.1 §4.7.1.2, §4.7.1.3.
func ValidFilter(filter string) bool {
	if !validTopicString(filter) {
		return false
	}
	for i := 0; i < len(filter); {
		j := strings.IndexByte(filter[i:], '/')
		level := filter[i:]
		if j >= 0 {
			level = filter[i : i+j]
		}
		if strings.ContainsAny(level, "+#") && len(level) != 1 {
			return false // a wildcard shares its level with other characters
		}
		if level == "#" && j >= 0 {
			return false // # is not the last level
		}
		if j < 0 {
			break
		}
		i += j + 1
	}
	return true
}

func validTopicString(s string) bool {
	return s != "" && len(s) <= 65535 && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// MatchFilter reports whether topic matches filter. Topics starting with $ are
// not matched by a filter starting with a wildcard (MQTT v3.1.1 §4.7.2).
// A shared-subscription filter ($share/group/f) matches as f (MQTT v5.0 §4.8.2).
// It does not allocate.
func MatchFilter(filter, topic string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			filter = rest[i+1:]
		}
	}
	if topic != "" && topic[0] == '$' && filter != "" && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true // matches this level and everything below, including the parent (§4.7.1.2)
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case fmore && !tmore:
			return frest == "#" // "a/#" matches "a"
		case !fmore && tmore:
			return false
		}
		filter, topic = frest, trest
	}
}
