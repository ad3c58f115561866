package profile

import (
	"embed"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// Default is the name of the default profile.
const Default = "z1"

//go:embed profiles/*.json
var builtin embed.FS

// Names lists the built-in profiles.
func Names() []string {
	ents, err := builtin.ReadDir("profiles")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Load returns a fresh copy of the named built-in profile, or, when name
// ends in ".json", the profile in that file.
func Load(name string) (*Profile, error) {
	if strings.HasSuffix(name, ".json") {
		return LoadFile(name)
	}
	data, err := builtin.ReadFile(path.Join("profiles", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("%w: no built-in profile %q (have %s)", ErrInvalid, name, strings.Join(Names(), ", "))
	}
	return Parse(data)
}

// LoadFile reads a profile from a JSON file.
func LoadFile(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}
