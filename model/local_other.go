//go:build !darwin

package model

import "runtime"

// readManagedPreferences reports both managed-preferences keys as not
// applicable: Codex reads them on macOS only.
func readManagedPreferences() (requirements, legacyConfig LocalSource) {
	detail := "not applicable on " + runtime.GOOS
	return LocalSource{Name: LocalNameMDMRequirements, Path: MDMDomain + ":" + MDMRequirementsKey, Status: LocalNotApplicable, Detail: detail},
		LocalSource{Name: LocalNameMDMConfig, Path: MDMDomain + ":" + MDMConfigKey, Status: LocalNotApplicable, Detail: detail}
}
