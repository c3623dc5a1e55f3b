// Package model is reqdoctor's domain: CODEX_HOME and config.toml,
// credentials, id-token claims, plans and eligibility, cache files and the
// requirements schema with parse, validate and merge. It does no UI and no
// network I/O, and it never writes to CODEX_HOME.
package model
