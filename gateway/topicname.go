package gateway

import "strings"

// MQTT 3.1.1 §4.7: topic names and filters are UTF-8, non-empty, without NUL;
// '#' only as the last level on its own, '+' only as a whole level; topic names
// (what is published) carry no wildcard at all.

// hasWildcard reports whether s contains '#' or '+'.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "#+") }

// validTopicName reports whether s may be published to.
func validTopicName(s string) bool {
	return s != "" && !hasWildcard(s) && !strings.ContainsRune(s, 0)
}

// validTopicFilter reports whether s may be subscribed to.
func validTopicFilter(s string) bool {
	if s == "" || strings.ContainsRune(s, 0) {
		return false
	}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '/')
		var level string
		if j < 0 {
			level = s[i:]
		} else {
			level = s[i : i+j]
		}
		if strings.ContainsAny(level, "#+") && len(level) != 1 {
			return false
		}
		if level == "#" && j >= 0 {
			return false // '#' must be the last level
		}
		if j < 0 {
			break
		}
		i += j + 1
	}
	return true
}
