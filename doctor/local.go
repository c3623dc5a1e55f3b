package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// stageLocal reads the requirement sources on this machine, which Codex
// merges below the cloud (codex-behavior.md §7), and computes the
// effective requirements over all layers.
func stageLocal(ctx context.Context, st *state) StageResult {
	sources := model.ReadLocalSources(st.opts.SystemConfigDir)
	var (
		details []Detail
		invalid []string
		found   int
	)
	for i, src := range sources {
		value := src.Status
		switch {
		case src.Status == model.LocalNotApplicable && src.Detail != "":
			value = src.Detail
		case src.Detail != "":
			value += ": " + src.Detail
		}
		if src.Status == model.LocalFound && src.Layer != nil {
			// Codex checks each file's rules as it loads it.
			if err := model.Merge(src.Layer).Validate(); err != nil {
				src.Status, src.Err, src.Layer = model.LocalInvalid, err, nil
				src.Detail = err.Error()
				value = src.Status + ": " + src.Detail
				sources[i] = src
			}
		}
		switch src.Status {
		case model.LocalFound:
			found++
		case model.LocalInvalid:
			invalid = append(invalid, src.Path)
		}
		key := src.Name
		if src.Path != "" && !strings.HasPrefix(src.Path, model.MDMDomain) {
			key = src.Path
		}
		details = append(details, Detail{Key: key, ID: fmt.Sprintf("source.%d", i+1), Value: fetch.Sanitize(value, 400)})
	}
	st.rep.Local = sources
	layers := model.LocalLayers(sources)

	// Cloud first, then the local sources, each field from the first
	// layer that sets it, as Codex merges them.
	var all []*model.Layer
	if st.rep.CloudRequirements != nil {
		all = append(all, st.rep.CloudRequirements.Layers...)
	}
	all = append(all, layers...)
	if len(all) > 0 {
		eff := model.Merge(all...)
		if !eff.Empty() {
			st.rep.Requirements = eff
		}
		for _, l := range layers {
			for _, w := range model.Merge(l).Warnings {
				st.warn("%s", w)
			}
		}
		for _, field := range eff.Order {
			if losers := eff.Shadowed[field]; len(losers) > 0 && contains(layers, losers) {
				names := make([]string, len(losers))
				for i, l := range losers {
					names[i] = shortSource(l)
				}
				details = append(details, Detail{Key: field, ID: "overridden." + field,
					Value: fetch.Sanitize(shortSource(eff.Sources[field])+" wins over "+strings.Join(names, ", "), 400)})
			}
		}
	}

	res := StageResult{Status: StatusOK, Details: details}
	switch {
	case len(invalid) > 0:
		res.Status = StatusFail
		res.Summary = fmt.Sprintf("%d invalid source%s: %s", len(invalid), plural(len(invalid)), strings.Join(invalid, ", "))
		res.Hint = "Codex refuses to start until the file is fixed; an admin owns it (it is outside CODEX_HOME)"
		st.warn("%s is invalid: Codex refuses to start until it is fixed", strings.Join(invalid, ", "))
	case found == 0:
		res.Summary = "none on this machine: only the cloud sets requirements"
	default:
		res.Summary = fmt.Sprintf("%d source%s on this machine, merged below the cloud", found, plural(found))
	}
	return res
}

// shortSource names a layer briefly: a fragment by its name and id, a
// file by its base name (the lines above give the full paths).
func shortSource(src string) string {
	if rest, ok := strings.CutPrefix(src, "enterprise-managed requirements "); ok {
		return rest
	}
	if filepath.IsAbs(src) {
		return filepath.Base(src)
	}
	return src
}

// contains reports whether any of the sources names one of layers.
func contains(layers []*model.Layer, sources []string) bool {
	for _, l := range layers {
		for _, s := range sources {
			if l.Source == s {
				return true
			}
		}
	}
	return false
}

// stageUserConfig compares the user's own config.toml with the effective
// requirements (codex-behavior.md §8).
func stageUserConfig(ctx context.Context, st *state) StageResult {
	uc := model.ReadUserConfig(st.home)
	st.rep.UserConfig = &uc
	var details []Detail
	if !uc.Found {
		details = append(details, Detail{Key: "file", ID: "file", Value: uc.Path + " (not found: Codex's defaults apply)"})
	} else {
		details = append(details, Detail{Key: "file", ID: "file", Value: uc.Path})
	}
	if uc.Profile != "" {
		details = append(details, Detail{Key: "profile", ID: "profile", Value: fetch.Sanitize(uc.Profile, 100)})
	}
	checks := model.CheckUserConfig(uc, st.rep.Requirements)
	st.rep.PolicyChecks = checks
	rejected := 0
	for i, c := range checks {
		if !c.Accepted && c.ConfigKey != "codex exec" {
			rejected++
		}
		mark := "✓"
		if !c.Accepted {
			mark = "✗"
		}
		details = append(details, Detail{Key: c.ConfigKey, ID: fmt.Sprintf("check.%d", i+1), Value: mark + " " + fetch.Sanitize(c.Message, 400)})
	}
	for i, k := range uc.IgnoredKeys {
		v := "ignored by Codex"
		if k.Suggestion != "" {
			v += " — did you mean `" + k.Suggestion + "`?"
		}
		if k.Note != "" {
			v += " " + k.Note
		}
		if k.Line > 0 {
			v += fmt.Sprintf(" (line %d)", k.Line)
		}
		details = append(details, Detail{Key: fetch.Sanitize(k.Key, 100), ID: fmt.Sprintf("ignored.%d", i+1), Value: v})
	}
	res := StageResult{Status: StatusOK, Details: details}
	switch {
	case uc.Err != nil:
		res.Status = StatusFail
		res.Summary = "config.toml is invalid: " + fetch.Sanitize(uc.Err.Error(), 300)
		res.Hint = "Codex refuses to start until config.toml is fixed"
	case rejected > 0:
		res.Status = StatusWarn
		res.Summary = fmt.Sprintf("%d setting%s disallowed by requirements: Codex falls back", rejected, plural(rejected))
		res.Hint = "change the setting in " + uc.Path + " to an allowed value, or ask your admin to allow it"
	case len(uc.IgnoredKeys) > 0:
		res.Status = StatusWarn
		res.Summary = fmt.Sprintf("%d key%s Codex ignores", len(uc.IgnoredKeys), plural(len(uc.IgnoredKeys)))
		res.Hint = "rename the key as suggested; Codex ignores it silently"
	case st.rep.Requirements == nil:
		res.Summary = "no requirements constrain your settings"
	default:
		res.Summary = "your settings are allowed by the requirements"
	}
	if uc.Err == nil && len(uc.IgnoredKeys) > 0 && res.Status == StatusWarn && rejected > 0 {
		res.Hint += "; also rename the keys Codex ignores"
	}
	return res
}
