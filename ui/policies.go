package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/reqdoctor/reqdoctor/model"
)

// policyRows returns the rows of the policies table of req (nil → none).
func policyRows(req *model.Requirements) []model.PolicyRow {
	if req == nil {
		return nil
	}
	return req.Rows()
}

// configHeader heads the column comparing the user's config.toml with
// each requirement.
const configHeader = "your config"

// execConfigKey is the ConfigKey of the note about `codex exec`: no
// config.toml setting, so it gets no cell (the config stage shows it).
const execConfigKey = "codex exec"

// shortMessageWidth caps the excerpt of a check's message in a cell.
const shortMessageWidth = 24

// configColumn gives the "your config" text of every row, in row order,
// and whether any row has some: without, the table keeps three columns.
// The TUI and RenderPolicies both use it, so they say the same thing.
func configColumn(rows []model.PolicyRow, checks []model.PolicyCheck) (cells []string, shown bool) {
	cells = make([]string, len(rows))
	for i, r := range rows {
		cells[i] = configCell(r, checks)
		shown = shown || cells[i] != ""
	}
	return cells, shown
}

// configCell is how the user's config meets one row's requirement, short:
// "never ✓" (set and allowed), "unset → on-request" (Codex's choice),
// "never ✗ → on-request" (disallowed: Codex falls back). Rows checked per
// name (features, MCP servers) list "name …" forms joined by ", ". A glyph
// and words carry the verdict, so it reads without colour. "" when no
// check concerns the row.
func configCell(r model.PolicyRow, checks []model.PolicyCheck) string {
	var parts []string
	for _, c := range checks {
		if c.ConfigKey == execConfigKey {
			continue
		}
		switch {
		case c.Policy == r.Field:
			if name, ok := strings.CutPrefix(c.ConfigKey, model.FieldMCPServers+"."); ok && r.Field == model.FieldMCPServers {
				parts = append(parts, checkShort(c, cleanLine(name), false))
			} else {
				parts = append(parts, checkShort(c, "", true))
			}
		case strings.HasPrefix(c.Policy, r.Field+"."):
			parts = append(parts, checkShort(c, cleanLine(strings.TrimPrefix(c.Policy, r.Field+".")), true))
		}
	}
	return strings.Join(parts, ", ")
}

// checkShort is one check's short form. name is the feature or server the
// check is about ("" for a single setting); showValue is false for MCP
// servers, whose value (their identity) is too long for a cell.
func checkShort(c model.PolicyCheck, name string, showValue bool) string {
	value, uses := cleanLine(c.UserValue), cleanLine(c.CodexUses)
	subject := name
	switch {
	case !showValue:
	case value == "":
		subject = strings.TrimSpace(name + " unset")
	case name != "":
		subject = name + " = " + value
	default:
		subject = value
	}
	if !showValue && uses == "enabled" {
		uses = "" // an allowed server stays on: nothing to add
	}
	switch {
	case c.Accepted && value == "" && uses != "":
		return subject + " → " + uses
	case c.Accepted && (uses == "" || uses == value):
		return subject + " ✓"
	case c.Accepted:
		return subject + " ✓ → " + uses
	case uses == "":
		return subject + " ✗ " + shortMessage(c.Message)
	}
	return subject + " ✗ → " + uses
}

// shortMessage is the gist of a check's message: up to its first clause
// break, without Markdown backticks, cut to shortMessageWidth.
func shortMessage(msg string) string {
	msg = strings.ReplaceAll(cleanLine(msg), "`", "")
	for _, sep := range []string{": ", "; ", " ("} {
		if head, _, ok := strings.Cut(msg, sep); ok && head != "" {
			msg = head
		}
	}
	msg = strings.TrimSpace(msg)
	if cut := ansi.Truncate(msg, shortMessageWidth-1, ""); cut != msg {
		return strings.TrimRight(cut, " ") + "…"
	}
	return msg
}
