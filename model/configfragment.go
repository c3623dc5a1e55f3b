package model

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// ConfigFragmentSource names a config_toml fragment of a bundle the way
// Codex names requirement fragments.
func ConfigFragmentSource(f Fragment) string {
	return fmt.Sprintf("enterprise-managed config %s (%s)", f.Name, f.ID)
}

// CheckConfigFragment checks that a config_toml fragment is valid TOML:
// Codex validates every fragment of a bundle and rejects the whole bundle
// when one does not parse. reqdoctor does not interpret config keys.
func CheckConfigFragment(f Fragment) error {
	if strings.TrimSpace(f.Contents) == "" {
		return nil
	}
	if e := checkTOMLLimits([]byte(f.Contents)); e != nil {
		e.Source = ConfigFragmentSource(f)
		return fmt.Errorf("invalid config in %w", e)
	}
	var doc map[string]any
	if err := toml.Unmarshal([]byte(f.Contents), &doc); err != nil {
		e := tomlError(err, ConfigFragmentSource(f))
		return fmt.Errorf("invalid config in %w", e)
	}
	return nil
}
