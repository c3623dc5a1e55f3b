package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var authNow = time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)

// authFixture reads testdata/model/auth/name with ${ID_TOKEN} and
// ${ACCESS_TOKEN} replaced by the given tokens.
func authFixture(t *testing.T, name, idToken, accessToken string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "model", "auth", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "${ID_TOKEN}", idToken)
	return []byte(strings.ReplaceAll(s, "${ACCESS_TOKEN}", accessToken))
}

func TestParseAuth(t *testing.T) {
	idTok := makeJWT(t, idClaims("enterprise", "user-fixture-0001", "acct-fixture-0001"))
	accessExp := time.Date(2026, 12, 4, 16, 44, 16, 0, time.UTC)
	accessTok := makeJWT(t, map[string]any{"exp": accessExp.Unix(), "scp": []string{"openid"}})
	tests := []struct {
		file          string
		mode          AuthMode
		explicit      bool
		hasKey        bool
		hasTokens     bool
		accountID     string
		lastRefresh   string
		idErr         string
		accessErr     string
		usableErr     string
		missingFields []string
	}{
		{file: "chatgpt.json", mode: AuthModeChatGPT, explicit: true, hasTokens: true, accountID: "acct-fixture-0001", lastRefresh: "2026-12-03T16:44:16.123Z"},
		{file: "chatgpt-inferred.json", mode: AuthModeChatGPT, hasTokens: true, lastRefresh: "2026-12-03T16:44:16Z"},
		{file: "apikey-inferred.json", mode: AuthModeAPIKey, hasKey: true},
		{file: "apikey.json", mode: AuthModeAPIKey, explicit: true, hasKey: true},
		{file: "chatgpt-auth-tokens.json", mode: AuthModeChatGPTTokens, explicit: true, hasTokens: true},
		{file: "agent-identity.json", mode: AuthModeAgentIdentity, explicit: true},
		{file: "missing-refresh.json", mode: AuthModeChatGPT, explicit: true, hasTokens: true,
			missingFields: []string{"refresh_token"}, usableErr: "auth.json `tokens` lacks `refresh_token`; Codex cannot read this file"},
		{file: "no-tokens.json", mode: AuthModeChatGPT, explicit: true, usableErr: "auth.json has no `tokens` object"},
		{file: "empty-access.json", mode: AuthModeChatGPT, hasTokens: true, usableErr: "`tokens.access_token` is empty"},
		{file: "malformed-id.json", mode: AuthModeChatGPT, hasTokens: true, idErr: "token has 1 part(s)",
			usableErr: "the id_token is malformed (token has 1 part(s)"},
		{file: "opaque-access.json", mode: AuthModeChatGPT, hasTokens: true, accountID: "acct-fixture-0001", accessErr: "token has 1 part(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a, err := ParseAuth(authFixture(t, tt.file, idTok, accessTok), tt.file, authNow)
			if err != nil {
				t.Fatal(err)
			}
			if a.Path != tt.file || a.Mode != tt.mode || a.ModeExplicit != tt.explicit || a.HasAPIKey != tt.hasKey || a.HasTokens != tt.hasTokens || a.AccountID != tt.accountID {
				t.Errorf("got Mode=%q explicit=%v key=%v tokens=%v account=%q", a.Mode, a.ModeExplicit, a.HasAPIKey, a.HasTokens, a.AccountID)
			}
			if got := fmtOptTime(a.LastRefresh); got != tt.lastRefresh {
				t.Errorf("LastRefresh = %q, want %q", got, tt.lastRefresh)
			}
			checkErrContains(t, "IDErr", a.IDErr, tt.idErr)
			checkErrContains(t, "AccessErr", a.AccessErr, tt.accessErr)
			checkErrContains(t, "Usable()", a.Usable(), tt.usableErr)
			if strings.Join(a.MissingTokenFields, ",") != strings.Join(tt.missingFields, ",") {
				t.Errorf("MissingTokenFields = %v, want %v", a.MissingTokenFields, tt.missingFields)
			}
			if tt.hasTokens && tt.idErr == "" {
				if a.ID.PlanType != "enterprise" || !a.ID.HasPlan || a.ID.UserID != "user-fixture-0001" || a.ID.AccountID != "acct-fixture-0001" || a.ID.Email != "user@example.com" {
					t.Errorf("ID = %+v", a.ID)
				}
			}
			if tt.hasTokens && tt.accessErr == "" && a.AccessToken != "" {
				if a.AccessExp == nil || !a.AccessExp.Equal(accessExp) || a.AccessExpired {
					t.Errorf("AccessExp = %v, expired %v", a.AccessExp, a.AccessExpired)
				}
			}
		})
	}
}

func TestParseAuthAccessExpired(t *testing.T) {
	idTok := makeJWT(t, idClaims("business", "u", "a"))
	accessTok := makeJWT(t, map[string]any{"exp": authNow.Add(-time.Minute).Unix()})
	a, err := ParseAuth(authFixture(t, "chatgpt.json", idTok, accessTok), "auth.json", authNow)
	if err != nil {
		t.Fatal(err)
	}
	if !a.AccessExpired || a.Usable() != nil {
		t.Errorf("AccessExpired = %v, Usable = %v", a.AccessExpired, a.Usable())
	}
}

func TestParseAuthInvalid(t *testing.T) {
	idTok := makeJWT(t, idClaims("enterprise", "u", "a"))
	accessTok := makeJWT(t, map[string]any{"exp": 1796402656})
	tests := []struct {
		file      string
		line, col int
		want      string
	}{
		{"empty.json", 0, 0, "file is empty"},
		{"blank.json", 0, 0, "file is empty"},
		{"not-json.json", 5, 5, "not valid JSON: invalid character '\"' after object key:value pair"},
		{"truncated.json", 4, 1, "not valid JSON: unexpected end of JSON input"},
		{"array.json", 1, 1, "auth.json must be a JSON object, got array"},
		{"tokens-string.json", 3, 13, "`tokens` must be an object, got string"},
		{"api-key-number.json", 1, 20, "`OPENAI_API_KEY` must be a string or null, got number"},
		{"last-refresh-bad.json", 4, 19, "`last_refresh` is not an RFC 3339 date-time: \"yesterday\""},
		{"id-token-number.json", 3, 17, "`tokens.id_token` must be a string, got number"},
		{"mode-number.json", 1, 15, "`auth_mode` must be a string, got number"},
		{"unknown-mode.json", 2, 16, "unknown `auth_mode` \"oauth\", expected one of `apikey`, `chatgpt`, `chatgptAuthTokens`, `agentIdentity`"},
		{"duplicate-tokens.json", 3, 13, "duplicate field `tokens`"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := authFixture(t, tt.file, idTok, accessTok)
			a, err := ParseAuth(data, "/home/u/.codex/auth.json", authNow)
			if err == nil {
				t.Fatalf("no error (auth %+v), want %q", a, tt.want)
			}
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not *AuthError", err)
			}
			if ae.Kind != AuthInvalid || ae.Path != "/home/u/.codex/auth.json" {
				t.Errorf("Kind = %q, Path = %q", ae.Kind, ae.Path)
			}
			if ae.Line != tt.line || (tt.col != 0 && ae.Column != tt.col) || !strings.Contains(ae.Msg, tt.want) {
				t.Errorf("got %d:%d %q; want %d:%d containing %q", ae.Line, ae.Column, ae.Msg, tt.line, tt.col, tt.want)
			}
			for _, secret := range []string{idTok, accessTok, "eyJhbGciOiJub25lIn0"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a token", err)
				}
			}
		})
	}
}

func TestLoadAuth(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing", func(t *testing.T) {
		_, err := LoadAuth(filepath.Join(dir, "auth.json"), authNow)
		wantAuthErr(t, err, AuthMissing, "file does not exist")
	})
	t.Run("directory", func(t *testing.T) {
		p := filepath.Join(dir, "adir")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := LoadAuth(p, authNow)
		wantAuthErr(t, err, AuthUnreadable, "is a directory")
	})
	t.Run("too big", func(t *testing.T) {
		p := filepath.Join(dir, "big.json")
		big := `{"OPENAI_API_KEY": null, "pad": "` + strings.Repeat("x", MaxAuthFileSize) + `"}`
		if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadAuth(p, authNow)
		wantAuthErr(t, err, AuthUnreadable, "larger than 1 MiB")
	})
	t.Run("permission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		p := filepath.Join(dir, "locked.json")
		if err := os.WriteFile(p, []byte(`{}`), 0o000); err != nil {
			t.Fatal(err)
		}
		_, err := LoadAuth(p, authNow)
		wantAuthErr(t, err, AuthUnreadable, "permission denied")
	})
	t.Run("ok", func(t *testing.T) {
		p := filepath.Join(dir, "auth.json")
		if err := os.WriteFile(p, []byte(`{"OPENAI_API_KEY":"sk-x"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := LoadAuth(p, authNow)
		if err != nil || a.Mode != AuthModeAPIKey || a.Path != p {
			t.Errorf("got %+v, %v", a, err)
		}
	})
}

// TestParseAuthRealCodex reads the auth.json the real Codex 0.171.0 used.
func TestParseAuthRealCodex(t *testing.T) {
	a, err := LoadAuth(filepath.Join("..", "testdata", "model", "codex-0.171.0", "auth.json"), authNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode != AuthModeChatGPT || a.ID.PlanType != "enterprise" || a.ID.UserID != "user-oracle-0001" ||
		a.ID.AccountID != "acct-oracle-0001" || a.AccountID != "acct-oracle-0001" || a.ID.Email != "oracle@example.com" || a.Usable() != nil {
		t.Errorf("got %+v", a)
	}
	if a.AccessExp == nil || a.AccessExp.Unix() != 1796402656 {
		t.Errorf("AccessExp = %v", a.AccessExp)
	}
}

func wantAuthErr(t *testing.T, err error, kind, msg string) {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *AuthError", err, err)
	}
	if ae.Kind != kind || !strings.Contains(ae.Msg, msg) || !strings.HasPrefix(ae.Error(), ae.Path+": ") {
		t.Errorf("got kind %q, %q; want %q containing %q", ae.Kind, ae.Error(), kind, msg)
	}
}

func checkErrContains(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s = %v, want nil", what, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s = %v, want it to contain %q", what, err, want)
	}
}

func fmtOptTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
