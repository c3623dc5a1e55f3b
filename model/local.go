package model

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"

	toml "github.com/pelletier/go-toml/v2"
)

// Statuses of a LocalSource.
const (
	LocalFound         = "found"
	LocalNotFound      = "not found"
	LocalInvalid       = "invalid"
	LocalNotApplicable = "not applicable"
)

// Names of the local requirement sources, in Codex's order.
const (
	LocalNameMDMRequirements = "macOS managed preferences (requirements_toml_base64)"
	LocalNameRequirements    = "requirements.toml"
	LocalNameMDMConfig       = "macOS managed preferences (config_toml_base64, legacy)"
	LocalNameManagedConfig   = "managed_config.toml (legacy)"
)

// MDMDomain is the managed-preferences domain Codex reads on macOS.
const MDMDomain = "com.openai.codex"

// MDM keys Codex reads in MDMDomain.
const (
	MDMRequirementsKey = "requirements_toml_base64"
	MDMConfigKey       = "config_toml_base64"
)

// Layer sources of the two managed-preferences keys, as reqdoctor shows
// them in "set by". Codex itself writes "MDM com.openai.codex:requirements_toml_base64"
// and "MDM managed_config.toml (legacy)"; see CodexSourceName.
const (
	MDMRequirementsSource = "macOS managed preferences (" + MDMDomain + ")"
	MDMConfigSource       = "macOS managed preferences (" + MDMDomain + ", legacy config_toml_base64)"
)

// maxLocalFileSize bounds what reqdoctor reads from a local source: real
// requirement files are a few KiB, and a huge file is a mistake.
const maxLocalFileSize = 1 << 20

// LocalSource is one requirement source on this machine, below the cloud.
type LocalSource struct {
	// Name is one of the LocalName… constants.
	Name string
	// Path is the file, or "com.openai.codex:<key>" for managed preferences.
	Path string
	// Status is one of LocalFound, LocalNotFound, LocalInvalid,
	// LocalNotApplicable.
	Status string
	// Detail says what the source sets, or why it is invalid (with line and
	// column where known), or why it does not apply.
	Detail string
	// Layer is the parsed source; nil unless Status is LocalFound.
	Layer *Layer
	// Err is why Status is LocalInvalid; nil otherwise.
	Err error
}

// DefaultSystemConfigDir is the folder of Codex's system requirement
// files: /etc/codex on Unix, %ProgramData%\OpenAI\Codex on Windows.
func DefaultSystemConfigDir() string {
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "OpenAI", "Codex")
	}
	return "/etc/codex"
}

// ReadLocalSources reads the requirement sources Codex merges below the
// cloud, in Codex's order (the first source that sets a field wins):
// managed preferences requirements_toml_base64, <dir>/requirements.toml,
// then the legacy pair, managed preferences config_toml_base64 before
// <dir>/managed_config.toml. An empty dir means DefaultSystemConfigDir.
// It reads only; problems are reported per source, never returned.
func ReadLocalSources(systemConfigDir string) []LocalSource {
	if systemConfigDir == "" {
		systemConfigDir = DefaultSystemConfigDir()
	}
	mdmReq, mdmCfg := readManagedPreferences()
	return []LocalSource{
		mdmReq,
		readRequirementsFile(filepath.Join(systemConfigDir, "requirements.toml")),
		mdmCfg,
		readManagedConfigFile(filepath.Join(systemConfigDir, "managed_config.toml")),
	}
}

// LocalLayers returns the layers of the found sources, in order, ready to
// follow the cloud layers in Merge.
func LocalLayers(sources []LocalSource) []*Layer {
	var out []*Layer
	for _, s := range sources {
		if s.Status == LocalFound && s.Layer != nil {
			out = append(out, s.Layer)
		}
	}
	return out
}

// CodexSourceName gives the name Codex prints for a layer source in its
// "(set by …)" messages; reqdoctor's own names differ only for managed
// preferences.
func CodexSourceName(source string) string {
	switch source {
	case MDMRequirementsSource:
		return "MDM " + MDMDomain + ":" + MDMRequirementsKey
	case MDMConfigSource:
		return "MDM managed_config.toml (legacy)"
	}
	return source
}

func readRequirementsFile(path string) LocalSource {
	s := LocalSource{Name: LocalNameRequirements, Path: path}
	data, ok := readLocalFile(&s)
	if !ok {
		return s
	}
	layer, err := ParseRequirements(string(data), path)
	if err != nil {
		return invalid(s, err)
	}
	s.Status, s.Layer, s.Detail = LocalFound, layer, describeLayer(layer)
	return s
}

func readManagedConfigFile(path string) LocalSource {
	s := LocalSource{Name: LocalNameManagedConfig, Path: path}
	data, ok := readLocalFile(&s)
	if !ok {
		return s
	}
	layer, others, err := parseLegacyConfig(string(data), path)
	if err != nil {
		return invalid(s, err)
	}
	s.Status, s.Layer, s.Detail = LocalFound, layer, describeLegacy(layer, others)
	return s
}

func invalid(s LocalSource, err error) LocalSource {
	s.Status, s.Err, s.Detail, s.Layer = LocalInvalid, err, err.Error(), nil
	return s
}

// readLocalFile reads s.Path, or sets s's status and detail and reports
// false. Codex fails to start on every problem but a missing file.
func readLocalFile(s *LocalSource) ([]byte, bool) {
	data, err := readRegularFile(s.Path, maxLocalFileSize)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		s.Status = LocalNotFound
		return nil, false
	case errors.Is(err, errIsDir):
		*s = invalid(*s, &FileError{Path: s.Path, Msg: "is a directory, not a file (Codex cannot read it and fails to start)"})
		return nil, false
	case errors.Is(err, errTooLarge):
		*s = invalid(*s, &FileError{Path: s.Path, Msg: "too large: over 1 MiB, not a requirements file"})
		return nil, false
	default:
		*s = invalid(*s, &FileError{Path: s.Path, Msg: "cannot read: " + err.Error()})
		return nil, false
	}
	if !utf8.Valid(data) {
		*s = invalid(*s, &FileError{Path: s.Path, Msg: "not valid UTF-8 (Codex cannot read it)"})
		return nil, false
	}
	return data, true
}

// describeLayer says in a few words what a found layer sets.
func describeLayer(l *Layer) string {
	if len(l.Order) == 0 {
		if len(l.Unknown) > 0 {
			return "sets no requirements (only keys Codex ignores: " + strings.Join(l.Unknown, ", ") + ")"
		}
		return "sets no requirements (empty)"
	}
	d := "sets " + strings.Join(l.Order, ", ")
	if len(l.Unknown) > 0 {
		d += "; ignored keys: " + strings.Join(l.Unknown, ", ")
	}
	return d
}

func describeLegacy(l *Layer, others []string) string {
	var parts []string
	for _, f := range l.Order {
		v, _ := l.Fields[f].([]any)
		parts = append(parts, fmt.Sprintf("%s = %s", f, compactValue(v)))
	}
	d := "sets no requirements"
	if len(parts) > 0 {
		d = "converted to " + strings.Join(parts, ", ")
	}
	if len(others) > 0 {
		d += "; other keys are config, not requirements: " + strings.Join(others, ", ")
	}
	return d
}

// legacySandboxModes are the values of config.toml's sandbox_mode (Codex's
// SandboxMode), which lacks the requirement-only external-sandbox.
var legacySandboxModes = []string{"read-only", "workspace-write", "danger-full-access"}

// parseLegacyConfig converts a managed_config.toml (a config file) into
// requirements as Codex does: approval_policy = X becomes
// allowed_approval_policies = [X]; sandbox_mode = M becomes
// allowed_sandbox_modes = ["read-only", M] (read-only once when M is
// read-only); newer Codex releases also turn approvals_reviewer = R into
// allowed_approvals_reviewers = [R] (plus "user" for guardian_subagent).
// A bad value of those keys is an error, as in Codex. Other keys are
// returned in document order: they are config, not requirements.
func parseLegacyConfig(contents, source string) (*Layer, []string, error) {
	layer := &Layer{Source: source, Fields: map[string]any{}}
	data := []byte(contents)
	if e := checkTOMLLimits(data); e != nil {
		e.Source = source
		return nil, nil, e
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, nil, tomlError(err, source)
	}
	idx, err := indexDocument(data)
	if err != nil {
		return nil, nil, parserError(err, data, source)
	}
	c := &checker{source: source, pos: idx}
	var others []string
	for _, key := range idx.orderedKeys(tomlPath{}, doc) {
		v := doc[key]
		path := tomlPath{}.key(key)
		switch key {
		case "approval_policy":
			if err := c.checkApprovalPolicy(path, v); err != nil {
				return nil, nil, err
			}
			layer.Fields[FieldApprovalPolicies] = []any{toJSONValue(v)}
			layer.Order = append(layer.Order, FieldApprovalPolicies)
		case "sandbox_mode":
			if err := c.checkEnum(path, v, legacySandboxModes); err != nil {
				return nil, nil, err
			}
			modes := []any{"read-only"}
			if v != "read-only" {
				modes = append(modes, v)
			}
			layer.Fields[FieldSandboxModes] = modes
			layer.Order = append(layer.Order, FieldSandboxModes)
		case "approvals_reviewer":
			if err := c.checkString(path, v); err != nil {
				return nil, nil, err
			}
			reviewers := []any{v}
			if v == "guardian_subagent" {
				reviewers = append(reviewers, "user")
			}
			const field = "allowed_approvals_reviewers"
			layer.Fields[field] = reviewers
			layer.Order = append(layer.Order, field)
			layer.NotInterpreted = append(layer.NotInterpreted, field)
		default:
			others = append(others, key)
		}
	}
	return layer, others, nil
}

// parseMDMValue decodes a managed-preferences value as Codex does (trimmed,
// standard base64 with padding, UTF-8) and parses it: as requirements, or
// with legacyConfig as a managed_config.toml converted to requirements.
// An empty value sets nothing, as in Codex.
func parseMDMValue(b64, source string, legacyConfig bool) (*Layer, error) {
	l, _, err := decodeMDMValue(b64, source, legacyConfig)
	return l, err
}

func decodeMDMValue(b64, source string, legacyConfig bool) (*Layer, []string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, nil, &RequirementsError{Source: source, Msg: "value is not valid base64: " + err.Error()}
	}
	if !utf8.Valid(raw) {
		return nil, nil, &RequirementsError{Source: source, Msg: "decoded value is not valid UTF-8"}
	}
	if legacyConfig {
		return parseLegacyConfig(string(raw), source)
	}
	l, err := ParseRequirements(string(raw), source)
	return l, nil, err
}

// mdmSource builds the LocalSource of one managed-preferences key from
// its raw value; present is false when the key is absent.
func mdmSource(name, key, value string, present bool) LocalSource {
	s := LocalSource{Name: name, Path: MDMDomain + ":" + key}
	if !present {
		s.Status = LocalNotFound
		return s
	}
	legacy := key == MDMConfigKey
	source := MDMRequirementsSource
	if legacy {
		source = MDMConfigSource
	}
	layer, others, err := decodeMDMValue(value, source, legacy)
	if err != nil {
		return invalid(s, err)
	}
	s.Status, s.Layer = LocalFound, layer
	if legacy {
		s.Detail = describeLegacy(layer, others)
	} else {
		s.Detail = describeLayer(layer)
	}
	return s
}
