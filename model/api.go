package model

import (
	"fmt"
	"time"
)

// Protocol is the generation of Codex's cloud requirements protocol.
type Protocol string

const (
	// ProtocolBundle is GET …/config/bundle, Codex ≥ 0.137.
	ProtocolBundle Protocol = "bundle"
	// ProtocolRequirements is GET …/config/requirements, Codex ≤ 0.136.
	ProtocolRequirements Protocol = "requirements"
)

// DefaultBaseURL is Codex's chatgpt_base_url when config.toml sets none.
const DefaultBaseURL = "https://chatgpt.com/backend-api/"

// FileError is a problem with a local file, located where possible.
// Line and Column are 1-based; 0 means unknown.
type FileError struct {
	Path   string
	Line   int
	Column int
	Msg    string
}

func (e *FileError) Error() string { return formatLocated(e.Path, e.Line, e.Column, e.Msg) }

// Config is what reqdoctor reads from $CODEX_HOME/config.toml.
type Config struct {
	Path             string
	Found            bool
	BaseURL          string // as written; "" when unset
	CredentialsStore string // "file" when unset
	Err              *FileError
}

// AuthMode is auth.json's auth_mode, or the mode Codex infers when absent.
type AuthMode string

const (
	AuthModeAPIKey        AuthMode = "apikey"
	AuthModeChatGPT       AuthMode = "chatgpt"
	AuthModeChatGPTTokens AuthMode = "chatgptAuthTokens"
	AuthModeAgentIdentity AuthMode = "agentIdentity"
)

// Auth is a decoded auth.json. Secrets are kept only to send them in the
// request; nothing in reqdoctor prints them (see Mask).
type Auth struct {
	Path         string
	Mode         AuthMode
	ModeExplicit bool // auth_mode was present in the file
	HasAPIKey    bool
	APIKey       string
	HasTokens    bool
	IDToken      string
	AccessToken  string
	RefreshToken string
	AccountID    string // tokens.account_id; "" when missing
	LastRefresh  *time.Time

	ID        IDClaims
	IDErr     error      // why the id_token could not be decoded
	AccessExp *time.Time // access token exp claim
	AccessErr error
	// AccessExpired: AccessExp is at or before the time given to ParseAuth.
	AccessExpired bool

	// MissingTokenFields lists required tokens fields (id_token,
	// access_token, refresh_token) absent from the file; Codex's serde then
	// rejects the whole auth.json. See Auth.Usable.
	MissingTokenFields []string
}

// IDClaims are the id_token claims Codex uses.
type IDClaims struct {
	Email     string
	PlanType  string // raw chatgpt_plan_type; "" when absent
	HasPlan   bool
	UserID    string // chatgpt_user_id, falling back to user_id
	AccountID string // chatgpt_account_id
	Exp       *time.Time
}

// Fragment is one enterprise-managed TOML document of a bundle response.
type Fragment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Contents string `json:"contents"`
}

// Layer is one parsed requirements document: the cloud contents, one
// bundle fragment, or (later) a local file.
type Layer struct {
	// Source names the layer as Codex does: "cloud requirements" or
	// "enterprise-managed requirements <name> (<id>)".
	Source string
	// Fields holds every top-level field the document sets, by its TOML
	// name, decoded into JSON-friendly values (string, bool, int64,
	// float64, []any, map[string]any).
	Fields map[string]any
	// Order is the order in which the document sets Fields.
	Order []string
	// Unknown lists top-level keys Codex ignores (typos, foreign keys).
	Unknown []string
	// NotInterpreted lists newer Codex fields reqdoctor knows by name but
	// does not check; they are kept in Fields.
	NotInterpreted []string
	// Aliases maps a field to the alias it was written under, e.g.
	// "features" → "feature_requirements".
	Aliases map[string]string
}

// Requirements is the merge of layers: for each top-level field the
// first layer that sets it wins.
type Requirements struct {
	Fields  map[string]any
	Sources map[string]string // field → Source of the layer that set it
	Order   []string          // fields in first-seen order
	// Warnings are unknown or not-interpreted keys, one line each, naming
	// the key and its layer.
	Warnings []string
	// Aliases maps a field to the alias its winning layer wrote it under.
	Aliases map[string]string
	// Shadowed lists, per field, the later layers that also set it and
	// lose to the first one (Codex drops them silently).
	Shadowed map[string][]string
	// Layers are the merged layers in priority order, so a merge can be
	// extended with more layers below (local sources under the cloud).
	Layers []*Layer
}

// RequirementsError is a requirements document Codex rejects: invalid
// TOML, a known field of the wrong type or value, or a failed rule.
type RequirementsError struct {
	Source string // layer Source
	Line   int    // 1-based; 0 when the problem has no position (rules)
	Column int
	Field  string // TOML field name when known
	Value  string // offending value as written, when known
	Msg    string // e.g. "unknown variant `bogus`, expected one of …"
}

func (e *RequirementsError) Error() string {
	s := e.Source
	if e.Line > 0 {
		s += fmt.Sprintf(", line %d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(", column %d", e.Column)
		}
	}
	if e.Field != "" {
		s += ", field `" + e.Field + "`"
	}
	return s + ": " + e.Msg
}

// PolicyRow is one line of the policies table.
type PolicyRow struct {
	Field string
	Value string // the allowed values, formatted for reading
	SetBy string
	Note  string // e.g. "not interpreted by reqdoctor"
}
