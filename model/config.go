package model

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Credential stores of config.toml's cli_auth_credentials_store.
const (
	StoreFile    = "file"
	StoreKeyring = "keyring"
	StoreAuto    = "auto"
)

// ConfigFileName is the user config inside CODEX_HOME.
const ConfigFileName = "config.toml"

// LoadConfig reads $codexHome/config.toml for the keys that matter to cloud
// requirements. A missing file is not an error (Found is false). Invalid
// TOML, a key of the wrong type or an unknown credential store is reported
// in Err with its position; the other fields then keep what could be read
// (CredentialsStore holds the bad value as written). It never fails hard.
func LoadConfig(codexHome string) Config {
	path := filepath.Join(codexHome, ConfigFileName)
	cfg := Config{Path: path, CredentialsStore: StoreFile}
	data, err := readConfigFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cfg
		}
		cfg.Found = true
		cfg.Err = &FileError{Path: path, Msg: "cannot read: " + err.Error()}
		return cfg
	}
	cfg.Found = true
	return parseConfig(path, data, cfg)
}

// maxConfigFileSize bounds what reqdoctor reads of config.toml.
const maxConfigFileSize = 4 << 20

// readConfigFile reads config.toml with the bound and checks of
// readRegularFile.
func readConfigFile(path string) ([]byte, error) {
	data, err := readRegularFile(path, maxConfigFileSize)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("larger than %d MiB; reqdoctor does not read it", maxConfigFileSize>>20)
	}
	return data, err
}

func parseConfig(path string, data []byte, cfg Config) Config {
	if e := checkTOMLLimits(data); e != nil {
		cfg.Err = &FileError{Path: path, Line: e.Line, Column: e.Column, Msg: e.Msg}
		return cfg
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		fe := &FileError{Path: path, Msg: "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: ")}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			fe.Line, fe.Column = de.Position()
		}
		cfg.Err = fe
		return cfg
	}
	var firstErr *FileError
	keep := func(fe *FileError) {
		if firstErr == nil || (fe.Line > 0 && (firstErr.Line == 0 || fe.Line < firstErr.Line)) {
			firstErr = fe
		}
	}
	if v, ok := doc["chatgpt_base_url"]; ok {
		if s, ok := v.(string); ok {
			cfg.BaseURL = s
		} else {
			line, col := topLevelKeyPos(data, "chatgpt_base_url")
			keep(&FileError{Path: path, Line: line, Column: col,
				Msg: fmt.Sprintf("`chatgpt_base_url` must be a string, got %s", configValueKind(v))})
		}
	}
	if v, ok := doc["cli_auth_credentials_store"]; ok {
		line, col := topLevelKeyPos(data, "cli_auth_credentials_store")
		s, isStr := v.(string)
		switch {
		case !isStr:
			keep(&FileError{Path: path, Line: line, Column: col,
				Msg: fmt.Sprintf("`cli_auth_credentials_store` must be a string, got %s", configValueKind(v))})
		case s == StoreFile || s == StoreKeyring || s == StoreAuto || s == StoreEphemeral:
			cfg.CredentialsStore = s
		default:
			cfg.CredentialsStore = s
			keep(&FileError{Path: path, Line: line, Column: col,
				Msg: fmt.Sprintf("`cli_auth_credentials_store`: unknown variant `%s`, expected one of `file`, `keyring`, `auto`, `ephemeral`", s)})
		}
	}
	cfg.Err = firstErr
	return cfg
}

// configValueKind names the TOML type of a value decoded by go-toml into any.
func configValueKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// topLevelKeyPos finds where a top-level key is set, for error positions.
// It returns 0, 0 when the key is not found (e.g. set through a table
// header).
func topLevelKeyPos(data []byte, key string) (line, col int) {
	var p unstable.Parser
	p.Reset(data)
	inTable := false
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			inTable = true
		case unstable.KeyValue:
			if inTable {
				continue
			}
		default:
			continue
		}
		if it := e.Key(); it.Next() && string(it.Node().Data) == key {
			s := p.Shape(it.Node().Raw)
			return s.Start.Line, s.Start.Column
		}
	}
	return 0, 0
}
