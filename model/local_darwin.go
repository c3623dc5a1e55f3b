//go:build darwin

package model

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"
)

// defaultsTimeout bounds each `defaults read`: cfprefsd can hang, and a
// diagnosis must not.
const defaultsTimeout = 2 * time.Second

// readManagedPreferences reads both Codex keys with /usr/bin/defaults,
// which only reads; reqdoctor never writes preferences.
func readManagedPreferences() (requirements, legacyConfig LocalSource) {
	return readMDMKey(LocalNameMDMRequirements, MDMRequirementsKey),
		readMDMKey(LocalNameMDMConfig, MDMConfigKey)
}

func readMDMKey(name, key string) LocalSource {
	value, present, err := defaultsRead(key)
	if err != nil {
		s := LocalSource{Name: name, Path: MDMDomain + ":" + key}
		return invalid(s, &RequirementsError{Source: MDMDomain + ":" + key, Msg: err.Error()})
	}
	return mdmSource(name, key, value, present)
}

// defaultsRead runs `defaults read com.openai.codex <key>`. A missing
// domain or key makes defaults exit 1 with "does not exist": that is
// absence, not an error.
func defaultsRead(key string) (value string, present bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), defaultsTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "/usr/bin/defaults", "read", MDMDomain, key)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return "", false, errors.New("`defaults read " + MDMDomain + " " + key + "` did not answer within 2 s")
	}
	if runErr != nil {
		if strings.Contains(stderr.String(), "does not exist") {
			return "", false, nil
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return "", false, errors.New("`defaults read " + MDMDomain + " " + key + "` failed: " + msg)
	}
	return strings.TrimSpace(stdout.String()), true, nil
}
