package model

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Claim namespaces of OpenAI's tokens.
const (
	AuthClaimsKey    = "https://api.openai.com/auth"
	ProfileClaimsKey = "https://api.openai.com/profile"
)

// jwtEncoding is Codex's URL_SAFE_NO_PAD: padding and stray trailing bits
// are rejected, as Rust's base64 crate does.
var jwtEncoding = base64.RawURLEncoding.Strict()

// DecodeJWTClaims decodes the payload of a JWT the way Codex does: the first
// three '.'-separated parts must be non-empty (Codex ignores anything after
// the third), the payload is base64url without padding and must hold a JSON
// object. The signature is not verified. Numbers are json.Number. Errors
// never contain the token, at most its length or part count.
func DecodeJWTClaims(token string) (map[string]any, error) {
	if token == "" {
		return nil, errors.New("token is empty")
	}
	parts := strings.Split(token, ".")
	if len(parts) < 3 {
		return nil, fmt.Errorf("token has %d part(s) separated by '.' instead of 3 (header.payload.signature); it is not a JWT (%d characters)", len(parts), len(token))
	}
	for i, name := range []string{"header (part 1)", "payload (part 2)", "signature (part 3)"} {
		if parts[i] == "" {
			return nil, fmt.Errorf("token %s is empty", name)
		}
	}
	payload := parts[1]
	if i := strings.IndexByte(payload, '='); i >= 0 {
		return nil, fmt.Errorf("token payload (part 2) is padded with '=' at byte %d; Codex decodes base64url without padding, so it rejects this token", i+1)
	}
	if i := strings.IndexAny(payload, "\r\n"); i >= 0 {
		// Go's decoder skips newlines; Codex's does not.
		return nil, fmt.Errorf("token payload (part 2) is not valid base64url: line break at byte %d", i+1)
	}
	raw, err := jwtEncoding.DecodeString(payload)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("token payload (part 2) is not valid base64url: bad data at byte %d of %d", int64(ce)+1, len(payload))
		}
		return nil, fmt.Errorf("token payload (part 2) is not valid base64url")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, errors.New("token payload (part 2) decodes to nothing, not a JSON object")
	}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := syntaxErrorPos(raw, se)
			return nil, fmt.Errorf("token payload (part 2) is not JSON: %s at line %d, column %d", se.Error(), line, col)
		}
		return nil, errors.New("token payload (part 2) is not JSON")
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("token payload (part 2) is a JSON %s, not an object", jsonKind(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("token payload (part 2) is not a JSON object: %v", err)
	}
	return claims, nil
}

// ParseIDClaims decodes an id_token into the claims Codex uses. A claim of
// the wrong type is an error, as it is for Codex's serde (which then rejects
// the whole auth.json). exp is not read by Codex from the id_token, so a bad
// exp only leaves Exp nil.
func ParseIDClaims(token string) (IDClaims, error) {
	var c IDClaims
	claims, err := DecodeJWTClaims(token)
	if err != nil {
		return c, err
	}
	if c.Email, _, err = optString(claims, "email", "claim `email`"); err != nil {
		return IDClaims{}, err
	}
	profile, err := optObject(claims, ProfileClaimsKey)
	if err != nil {
		return IDClaims{}, err
	}
	if profile != nil {
		email, _, err := optString(profile, "email", "claim `"+ProfileClaimsKey+"`.`email`")
		if err != nil {
			return IDClaims{}, err
		}
		if c.Email == "" {
			c.Email = email
		}
	}
	auth, err := optObject(claims, AuthClaimsKey)
	if err != nil {
		return IDClaims{}, err
	}
	if auth != nil {
		at := func(k string) string { return "claim `" + AuthClaimsKey + "`.`" + k + "`" }
		if c.PlanType, c.HasPlan, err = optString(auth, "chatgpt_plan_type", at("chatgpt_plan_type")); err != nil {
			return IDClaims{}, err
		}
		uid, hasUID, err := optString(auth, "chatgpt_user_id", at("chatgpt_user_id"))
		if err != nil {
			return IDClaims{}, err
		}
		legacy, _, err := optString(auth, "user_id", at("user_id"))
		if err != nil {
			return IDClaims{}, err
		}
		c.UserID = uid
		if !hasUID {
			c.UserID = legacy
		}
		if c.AccountID, _, err = optString(auth, "chatgpt_account_id", at("chatgpt_account_id")); err != nil {
			return IDClaims{}, err
		}
	}
	if exp, err := claimExp(claims); err == nil {
		c.Exp = exp
	}
	return c, nil
}

// accessTokenExp reads the exp claim of an access token as Codex's
// parse_jwt_expiration does: absent is fine, a non-integer is an error.
func accessTokenExp(token string) (*time.Time, error) {
	claims, err := DecodeJWTClaims(token)
	if err != nil {
		return nil, err
	}
	return claimExp(claims)
}

func claimExp(claims map[string]any) (*time.Time, error) {
	v, ok := claims["exp"]
	if !ok || v == nil {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("claim `exp` is %s, expected an integer (Unix seconds)", goJSONKind(v))
	}
	secs, err := n.Int64()
	if err != nil || secs > math.MaxInt64/2 {
		return nil, fmt.Errorf("claim `exp` is %s, expected an integer (Unix seconds)", n.String())
	}
	t := time.Unix(secs, 0).UTC()
	return &t, nil
}

// optString reads an optional string claim: absent or null → "", false.
func optString(m map[string]any, key, what string) (string, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fmt.Errorf("%s is %s, expected a string", what, goJSONKind(v))
	}
	return s, true, nil
}

// optObject reads an optional object claim: absent or null → nil.
func optObject(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("claim `%s` is %s, expected an object", key, goJSONKind(v))
	}
	return o, nil
}

// goJSONKind names the JSON type of a decoded value, with an article.
func goJSONKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonKind names the JSON type of a raw, valid, trimmed value.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// syntaxErrorPos locates a JSON syntax error: the offending byte, or the
// end of the input when the input ends too early.
func syntaxErrorPos(data []byte, se *json.SyntaxError) (line, col int) {
	if strings.Contains(se.Error(), "unexpected end of JSON input") {
		return offsetToLineCol(data, len(data)+1)
	}
	return offsetToLineCol(data, int(se.Offset))
}

// offsetToLineCol turns the offset reported by encoding/json (the number of
// bytes read when the error occurred) into the 1-based line and column of
// the offending byte.
func offsetToLineCol(data []byte, offset int) (line, col int) {
	idx := offset - 1
	if idx < 0 {
		idx = 0
	}
	idx = min(idx, len(data))
	line = 1 + bytes.Count(data[:idx], []byte{'\n'})
	col = idx - bytes.LastIndexByte(data[:idx], '\n')
	return line, col
}
