package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// ReportInfo is what a shareable report says about where it was made,
// besides the diagnosis itself.
type ReportInfo struct {
	ToolVersion string
	OS, Arch    string
	// Term, TermProgram and ColorTerm are $TERM, $TERM_PROGRAM and
	// $COLORTERM ("" when unset).
	Term, TermProgram, ColorTerm string
	// Title says what ran, e.g. "reqdoctor — demo: success (Policies load)".
	Title string
	// Now is the clock for the generation time; nil → time.Now.
	Now func() time.Time
}

// NewReportInfo fills a ReportInfo from this process: its OS and
// architecture and the terminal variables read through getenv.
func NewReportInfo(version, title string, getenv func(string) string) ReportInfo {
	if getenv == nil {
		getenv = os.Getenv
	}
	return ReportInfo{
		ToolVersion: version, OS: runtime.GOOS, Arch: runtime.GOARCH,
		Term: getenv("TERM"), TermProgram: getenv("TERM_PROGRAM"), ColorTerm: getenv("COLORTERM"),
		Title: title,
	}
}

func (i ReportInfo) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// MarkdownReport renders rep as a Markdown report to paste into a ticket:
// tool, system and terminal, every stage with its details and hint, the
// fetch attempts, the policies, the checks of the user's config, the
// warnings and the verdict. It is built only from the report, which never
// holds a secret, and then passed through r all the same: secrets are
// always masked, and with redaction on (nil r counts as on, without a home
// directory) e-mails, ids and the home directory too.
func MarkdownReport(rep *doctor.Report, info ReportInfo, r *model.Redactor) string {
	if r == nil {
		r = model.NewRedactor("", true)
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# reqdoctor report\n\n")
	if r.On() {
		p("> Redacted: the home directory is shown as `~`, e-mail addresses and user and account ids are partly masked. Tokens and keys are never included.\n\n")
	} else {
		p("> Not redacted (`--no-redact`): paths, e-mail addresses and ids are shown in full. Tokens and keys are never included.\n\n")
	}
	text, _ := Verdict(rep)
	exit := doctor.ExitInterrupted
	var protocol, codex string = "", "not found"
	if rep != nil {
		exit = rep.ExitCode
		protocol = string(rep.Protocol)
		for _, s := range rep.Stages {
			for _, d := range s.Details {
				if s.ID == doctor.StageEnvironment && (d.ID == "codex" || d.Key == "codex") {
					codex = d.Value
				}
			}
		}
	}
	p("| | |\n|---|---|\n")
	row := func(k, v string) { p("| %s | %s |\n", k, mdCell(v)) }
	if info.Title != "" {
		row("run", info.Title)
	}
	row("reqdoctor", orNone(info.ToolVersion))
	row("OS/arch", info.OS+"/"+info.Arch)
	row("terminal", fmt.Sprintf("TERM=%s, TERM_PROGRAM=%s, COLORTERM=%s", orUnset(info.Term), orUnset(info.TermProgram), orUnset(info.ColorTerm)))
	row("Codex", codex)
	row("protocol", orNone(protocol))
	row("verdict", text)
	row("exit code", strconv.Itoa(exit))
	row("generated", info.now().UTC().Format(time.RFC3339))
	p("\n")

	if rep != nil {
		p("## Stages\n\n")
		for i, s := range rep.Stages {
			writeStage(&b, i+1, s)
		}
		if rep.Fetch != nil {
			p("## Fetch\n\n")
			writeFetch(&b, rep.Fetch)
		}
		if l := rep.Live; l != nil {
			p("## Live check\n\n")
			p("Codex would use the cache and make no request; reqdoctor asked the server itself.\n\n")
			same := "yes"
			if !l.Same {
				same = "no"
			}
			p("- same policies as the cache: %s\n", same)
			for _, d := range l.Diff {
				p("- changed: %s\n", mdText(d))
			}
			if l.Err != nil {
				p("- once the cache expires Codex would fail: %s — %s\n", l.Err.Code, mdText(l.Err.Message))
			}
			p("\n")
			writeFetch(&b, &l.Fetch)
		}
		writePolicies(&b, rep)
		writeConfig(&b, rep)
		if len(rep.Warnings) > 0 {
			p("## Warnings\n\n")
			for _, w := range rep.Warnings {
				p("- %s\n", mdText(w))
			}
			p("\n")
		}
	}
	p("## Verdict\n\n**%s**\n\nExit code %d.\n", mdText(text), exit)
	return r.String(b.String())
}

func writeStage(b *strings.Builder, n int, s doctor.StageResult) {
	fmt.Fprintf(b, "### %d. %s: %s\n\n", n, StageTitle(s.ID), strings.ToUpper(cleanLine(string(s.Status))))
	if sum := cleanLine(s.Summary); sum != "" {
		fmt.Fprintf(b, "%s\n\n", mdText(sum))
	}
	for _, d := range s.Details {
		v := strings.ReplaceAll(mdText(cleanText(d.Value)), "\n", "\n  ")
		fmt.Fprintf(b, "- %s: %s\n", mdText(cleanLine(d.Key)), v)
	}
	// Stages that read a file or two take no measurable time.
	took := s.Duration >= time.Millisecond
	if took {
		fmt.Fprintf(b, "- took: %s\n", formatLatency(s.Duration))
	}
	if len(s.Details) > 0 || took {
		b.WriteString("\n")
	}
	if s.Status != doctor.StatusOK && strings.TrimSpace(s.Hint) != "" {
		fmt.Fprintf(b, "**What to do:** %s\n\n", mdText(cleanLine(s.Hint)))
	}
}

func writeFetch(b *strings.Builder, f *fetch.Result) {
	fmt.Fprintf(b, "- URL: %s\n- deadline: %s\n- elapsed: %s\n\n", mdText(cleanLine(f.URL)), formatSeconds(f.Timeout), formatLatency(f.Elapsed))
	if len(f.Attempts) == 0 {
		b.WriteString("No request was sent.\n\n")
		return
	}
	b.WriteString("| # | started | status | latency | result | content type | body | backoff |\n|---|---|---|---|---|---|---|---|\n")
	for _, a := range f.Attempts {
		status := "—"
		if a.Status > 0 {
			status = strconv.Itoa(a.Status)
		}
		result := cleanLine(a.Class)
		if a.Err != "" {
			result = cleanLine(a.Err)
		}
		if a.Note != "" {
			result += "; " + cleanLine(a.Note)
		}
		body := ""
		if excerpt := strings.Join(strings.Fields(cleanLine(a.Body)), " "); excerpt != "" {
			body = "`" + strings.ReplaceAll(truncateRunes(excerpt, 120), "`", "'") + "`"
		}
		backoff := ""
		if a.Backoff > 0 {
			backoff = fmt.Sprintf("%.2f s", a.Backoff.Seconds())
		}
		fmt.Fprintf(b, "| %d | %d ms | %s | %s | %s | %s | %s | %s |\n", a.N, a.Start.Milliseconds(), status,
			formatLatency(a.Duration), mdCell(result), mdCell(cleanLine(a.ContentType)), strings.ReplaceAll(body, "|", `\|`), backoff)
	}
	b.WriteString("\n")
}

func writePolicies(b *strings.Builder, rep *doctor.Report) {
	rows := policyRows(rep.Requirements)
	b.WriteString("## Workspace policies\n\n")
	if len(rows) == 0 {
		b.WriteString("No workspace policies apply.\n\n")
		return
	}
	cfg, withCfg := configColumn(rows, rep.PolicyChecks)
	b.WriteString("| field | allowed | set by |")
	sep := "|---|---|---|"
	if withCfg {
		b.WriteString(" " + configHeader + " |")
		sep += "---|"
	}
	b.WriteString("\n" + sep + "\n")
	for i, r := range rows {
		f, v, _ := policyCells(r)
		fmt.Fprintf(b, "| %s | %s | %s |", mdCell(f), mdCell(v), mdCell(cleanLine(r.SetBy)))
		if withCfg {
			fmt.Fprintf(b, " %s |", mdCell(cfg[i]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func writeConfig(b *strings.Builder, rep *doctor.Report) {
	uc := rep.UserConfig
	if uc == nil && len(rep.PolicyChecks) == 0 {
		return
	}
	b.WriteString("## Your config\n\n")
	if uc != nil {
		found := "not found"
		if uc.Found {
			found = "found"
		}
		fmt.Fprintf(b, "- file: %s (%s)\n", mdText(cleanLine(uc.Path)), found)
		if uc.Profile != "" {
			fmt.Fprintf(b, "- profile: %s\n", mdText(cleanLine(uc.Profile)))
		}
		if uc.Err != nil {
			fmt.Fprintf(b, "- error: %s\n", mdText(cleanLine(uc.Err.Error())))
		}
		for _, k := range uc.IgnoredKeys {
			line := fmt.Sprintf("- ignored by Codex: `%s`", strings.ReplaceAll(cleanLine(k.Key), "`", "'"))
			if k.Suggestion != "" {
				line += fmt.Sprintf(" (did you mean `%s`?)", strings.ReplaceAll(cleanLine(k.Suggestion), "`", "'"))
			}
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
	}
	if len(rep.PolicyChecks) == 0 {
		b.WriteString("No setting of yours meets a requirement.\n\n")
		return
	}
	b.WriteString("| setting | your value | accepted | Codex uses | note |\n|---|---|---|---|---|\n")
	for _, c := range rep.PolicyChecks {
		value := cleanLine(c.UserValue)
		if value == "" {
			value = "unset"
		} else if c.From != "" {
			value += " (" + cleanLine(c.From) + ")"
		}
		accepted := "no"
		if c.Accepted {
			accepted = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mdCell(cleanLine(c.ConfigKey)), mdCell(value), accepted,
			mdCell(orNone(cleanLine(c.CodexUses))), mdCell(cleanLine(c.Message)))
	}
	b.WriteString("\n")
}

// mdText keeps text from outside (a server's body, a file's content)
// from turning into HTML when the report is rendered.
func mdText(s string) string { return strings.ReplaceAll(s, "<", `\<`) }

// mdCell is mdText for a table cell: one line, pipes escaped.
func mdCell(s string) string {
	return strings.ReplaceAll(mdText(cleanLine(s)), "|", `\|`)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func orUnset(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

// WriteReportFile writes a report to path, created with mode 0600: it
// may hold e-mail addresses when not redacted.
func WriteReportFile(path, report string) error {
	return os.WriteFile(path, []byte(report), 0o600)
}

// SaveReport writes a report to a new file reqdoctor-report-<time>.md in
// dir (mode 0600, never over an existing file) and returns its path.
func SaveReport(dir string, at time.Time, report string) (string, error) {
	base := "reqdoctor-report-" + at.Format("20060102-150405")
	for i := 1; i < 100; i++ {
		name := base + ".md"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.md", base, i)
		}
		path := filepath.Join(dir, name)
		// O_EXCL: in a shared temp dir, never follow a planted symlink or
		// write into someone else's file.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(report)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return path, err
	}
	return "", fmt.Errorf("saving the report in %s: too many reports this second", dir)
}
