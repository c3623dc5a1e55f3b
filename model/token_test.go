package model

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// makeJWT builds an unsigned (alg none) token with the given claims.
func makeJWT(t testing.TB, claims any) string {
	t.Helper()
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return rawJWT(string(p))
}

// rawJWT builds a token whose payload is the given bytes.
func rawJWT(payload string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return h + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

// idClaims is a typical id_token payload.
func idClaims(plan any, userID, accountID string) map[string]any {
	auth := map[string]any{"chatgpt_user_id": userID, "chatgpt_account_id": accountID}
	if plan != nil {
		auth["chatgpt_plan_type"] = plan
	}
	return map[string]any{"email": "user@example.com", "exp": 1796402656, AuthClaimsKey: auth}
}

func TestDecodeJWTClaimsErrors(t *testing.T) {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	good := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`))
	padded := base64.URLEncoding.EncodeToString([]byte(`{"sub":"x"}`))
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("test setup: %q is not padded", padded)
	}
	tests := []struct {
		name, token, want string
	}{
		{"empty", "", "token is empty"},
		{"one part", "opaque-access-token-123456", "token has 1 part(s) separated by '.' instead of 3"},
		{"two parts", h + "." + good, "token has 2 part(s)"},
		{"empty header", "." + good + ".sig", "header (part 1) is empty"},
		{"empty payload", h + "..sig", "payload (part 2) is empty"},
		{"empty signature", h + "." + good + ".", "signature (part 3) is empty"},
		{"padded", h + "." + padded + ".sig", "padded with '='"},
		{"bad base64 char", h + ".eyJzdWIi*.sig", "not valid base64url: bad data at byte 9 of 9"},
		{"std base64 alphabet", h + ".eyJ+dWIi.sig", "not valid base64url"},
		{"line break", h + ".eyJz\ndWIi.sig", "line break at byte 5"},
		{"impossible length", h + ".eyJzd.sig", "not valid base64url"},
		{"not JSON", rawJWT("hello world"), "payload (part 2) is not JSON: invalid character 'h' looking for beginning of value at line 1, column 1"},
		{"truncated JSON", rawJWT(`{"sub": "x"`), "is not JSON: unexpected end of JSON input"},
		{"array", rawJWT(`["a"]`), "payload (part 2) is a JSON array, not an object"},
		{"string", rawJWT(`"a"`), "is a JSON string, not an object"},
		{"null", rawJWT(`null`), "is a JSON null, not an object"},
		{"whitespace", rawJWT("  "), "decodes to nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJWTClaims(tt.token)
			if err == nil {
				t.Fatalf("DecodeJWTClaims succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if len(tt.token) > 8 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
			if parts := strings.Split(tt.token, "."); len(parts) > 1 && len(parts[1]) > 4 && strings.Contains(err.Error(), parts[1]) {
				t.Errorf("error %q contains the token payload", err)
			}
		})
	}
}

func TestDecodeJWTClaimsOK(t *testing.T) {
	tok := makeJWT(t, map[string]any{"sub": "s", "exp": 1796402656})
	claims, err := DecodeJWTClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "s" || claims["exp"] != json.Number("1796402656") {
		t.Errorf("claims = %v", claims)
	}
	// Codex reads only the first three parts; a fourth does not matter.
	if _, err := DecodeJWTClaims(tok + ".extra"); err != nil {
		t.Errorf("four parts: %v", err)
	}
}

func TestParseIDClaims(t *testing.T) {
	exp := time.Unix(1796402656, 0).UTC()
	tests := []struct {
		name   string
		claims any
		want   IDClaims
	}{
		{"full", idClaims("enterprise", "user-1", "acct-1"),
			IDClaims{Email: "user@example.com", PlanType: "enterprise", HasPlan: true, UserID: "user-1", AccountID: "acct-1", Exp: &exp}},
		{"user_id fallback", map[string]any{AuthClaimsKey: map[string]any{"user_id": "legacy-1", "chatgpt_plan_type": "business"}},
			IDClaims{PlanType: "business", HasPlan: true, UserID: "legacy-1"}},
		{"chatgpt_user_id wins", map[string]any{AuthClaimsKey: map[string]any{"user_id": "legacy-1", "chatgpt_user_id": "user-2"}},
			IDClaims{UserID: "user-2"}},
		{"profile email", map[string]any{ProfileClaimsKey: map[string]any{"email": "p@example.com"}},
			IDClaims{Email: "p@example.com"}},
		{"top-level email wins", map[string]any{"email": "top@example.com", ProfileClaimsKey: map[string]any{"email": "p@example.com"}},
			IDClaims{Email: "top@example.com"}},
		{"no auth claims", map[string]any{"sub": "x"}, IDClaims{}},
		{"null plan", map[string]any{AuthClaimsKey: map[string]any{"chatgpt_plan_type": nil}}, IDClaims{}},
		{"upper-case plan kept as written", idClaims("ENTERPRISE", "u", "a"),
			IDClaims{Email: "user@example.com", PlanType: "ENTERPRISE", HasPlan: true, UserID: "u", AccountID: "a", Exp: &exp}},
		{"bad exp ignored", map[string]any{"exp": "tomorrow"}, IDClaims{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDClaims(makeJWT(t, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			if (got.Exp == nil) != (tt.want.Exp == nil) || (got.Exp != nil && !got.Exp.Equal(*tt.want.Exp)) {
				t.Errorf("Exp = %v, want %v", got.Exp, tt.want.Exp)
			}
			got.Exp, tt.want.Exp = nil, nil
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseIDClaimsWrongTypes(t *testing.T) {
	tests := []struct {
		name   string
		claims any
		want   string
	}{
		{"plan number", idClaims(5, "u", "a"), "claim `https://api.openai.com/auth`.`chatgpt_plan_type` is a number, expected a string"},
		{"plan object", idClaims(map[string]any{"x": 1}, "u", "a"), "`chatgpt_plan_type` is an object, expected a string"},
		{"auth claims string", map[string]any{AuthClaimsKey: "enterprise"}, "claim `https://api.openai.com/auth` is a string, expected an object"},
		{"profile array", map[string]any{ProfileClaimsKey: []any{}}, "claim `https://api.openai.com/profile` is an array, expected an object"},
		{"email bool", map[string]any{"email": true}, "claim `email` is a boolean, expected a string"},
		{"user id number", map[string]any{AuthClaimsKey: map[string]any{"chatgpt_user_id": 7}}, "`chatgpt_user_id` is a number"},
		{"legacy user id number", map[string]any{AuthClaimsKey: map[string]any{"user_id": 7}}, "`user_id` is a number"},
		{"account id bool", map[string]any{AuthClaimsKey: map[string]any{"chatgpt_account_id": false}}, "`chatgpt_account_id` is a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIDClaims(makeJWT(t, tt.claims))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAccessTokenExp(t *testing.T) {
	got, err := accessTokenExp(makeJWT(t, map[string]any{"exp": 1796402656}))
	if err != nil || got == nil || got.Unix() != 1796402656 {
		t.Errorf("exp = %v, %v", got, err)
	}
	if got, err := accessTokenExp(makeJWT(t, map[string]any{"sub": "x"})); err != nil || got != nil {
		t.Errorf("no exp: %v, %v", got, err)
	}
	for _, bad := range []any{"soon", 1.5, true} {
		if _, err := accessTokenExp(makeJWT(t, map[string]any{"exp": bad})); err == nil || !strings.Contains(err.Error(), "claim `exp`") {
			t.Errorf("exp %v: err = %v", bad, err)
		}
	}
}
