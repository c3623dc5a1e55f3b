package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := func(name string) string { return filepath.Join("..", "testdata", "model", "config", name) }
	tests := []struct {
		name      string
		found     bool
		baseURL   string
		store     string
		errLine   int
		errColumn int
		errMsg    string
	}{
		{"ok", true, "https://example.test/backend-api/", "file", 0, 0, ""},
		{"keyring", true, "", "keyring", 0, 0, ""},
		{"empty", true, "", "file", 0, 0, ""},
		{"missing", false, "", "file", 0, 0, ""},
		{"unknownkeys", true, "", "file", 0, 0, ""},
		{"invalid", true, "", "file", 2, 41, "invalid TOML: basic strings cannot have new lines"},
		{"wrongtype", true, "", "file", 3, 1, "`chatgpt_base_url` must be a string, got an integer"},
		{"badstore", true, "https://chatgpt.com/backend-api/", "vault", 2, 1,
			"`cli_auth_credentials_store`: unknown variant `vault`, expected one of `file`, `keyring`, `auto`, `ephemeral`"},
		{"storetype", true, "", "file", 1, 1, "`cli_auth_credentials_store` must be a string, got a boolean"},
		{"table", true, "", "file", 3, 2, "`chatgpt_base_url` must be a string, got a table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := LoadConfig(dir(tt.name))
			if cfg.Path != filepath.Join(dir(tt.name), "config.toml") {
				t.Errorf("Path = %q", cfg.Path)
			}
			if cfg.Found != tt.found || cfg.BaseURL != tt.baseURL || cfg.CredentialsStore != tt.store {
				t.Errorf("got Found=%v BaseURL=%q Store=%q; want %v %q %q", cfg.Found, cfg.BaseURL, cfg.CredentialsStore, tt.found, tt.baseURL, tt.store)
			}
			if tt.errMsg == "" {
				if cfg.Err != nil {
					t.Fatalf("unexpected error: %v", cfg.Err)
				}
				return
			}
			if cfg.Err == nil {
				t.Fatalf("no error, want %q", tt.errMsg)
			}
			if cfg.Err.Line != tt.errLine || cfg.Err.Column != tt.errColumn || !strings.Contains(cfg.Err.Msg, tt.errMsg) {
				t.Errorf("error = %d:%d %q; want %d:%d containing %q", cfg.Err.Line, cfg.Err.Column, cfg.Err.Msg, tt.errLine, tt.errColumn, tt.errMsg)
			}
			if !strings.HasPrefix(cfg.Err.Error(), cfg.Path+":") {
				t.Errorf("Error() = %q does not start with the path", cfg.Err.Error())
			}
		})
	}
}

func TestLoadConfigUnreadable(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "config.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := LoadConfig(home)
	if !cfg.Found || cfg.Err == nil || !strings.Contains(cfg.Err.Msg, "cannot read") {
		t.Errorf("got %+v, err %v", cfg, cfg.Err)
	}
}
