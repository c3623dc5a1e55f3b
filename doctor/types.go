// Package doctor runs reqdoctor's diagnosis: the stages of design.md as
// plain functions over a context, shared by the TUI, plain and JSON views.
package doctor

import (
	"time"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// StageID names a stage; the values are part of the JSON contract.
type StageID string

const (
	StageEnvironment StageID = "environment"
	StageAuth        StageID = "auth"
	StagePlan        StageID = "plan"
	StageCache       StageID = "cache"
	StageFetch       StageID = "fetch"
	StageParse       StageID = "parse"
)

// Stages that look beyond the cloud load; they always run, and the JSON
// report carries them under their own keys (layers, userConfig).
const (
	StageLocal      StageID = "local"
	StageUserConfig StageID = "config"
)

// StageOrder is the order of the cloud-load stages of design.md, the
// "stages" of the JSON report.
var StageOrder = []StageID{StageEnvironment, StageAuth, StagePlan, StageCache, StageFetch, StageParse}

// ExtraStages follow StageOrder in the views.
var ExtraStages = []StageID{StageLocal, StageUserConfig}

// AllStages is every stage in the order the views show them.
func AllStages() []StageID { return append(append([]StageID{}, StageOrder...), ExtraStages...) }

// Status is a stage verdict; the values are part of the JSON contract.
type Status string

const (
	StatusOK      Status = "ok"
	StatusWarn    Status = "warn"
	StatusFail    Status = "fail"
	StatusSkipped Status = "skipped"
)

// Outcome is what Codex would end up with; part of the JSON contract.
type Outcome string

const (
	OutcomeRequirements  Outcome = "requirements"
	OutcomeNone          Outcome = "no_requirements"
	OutcomeNotApplicable Outcome = "not_applicable"
	OutcomeError         Outcome = "error"
)

// Exit codes of design.md.
const (
	ExitOK          = 0
	ExitRefuse      = 1
	ExitUsage       = 2
	ExitCredentials = 4
	ExitTimeout     = 124
	ExitInterrupted = 130
)

// Detail is one labelled fact under a stage line, kept in display order.
type Detail struct {
	Key   string // label shown to people
	Value string
	ID    string // camelCase key in the JSON report; Key when ""
}

// StageResult is the verdict of one stage.
type StageResult struct {
	ID       StageID
	Status   Status
	Summary  string
	Hint     string // what to do; "" when nothing
	Details  []Detail
	Duration time.Duration
}

// Report is the whole diagnosis. Its JSON form is the contract of design.md.
type Report struct {
	Protocol     model.Protocol
	Outcome      Outcome
	ExitCode     int
	Stages       []StageResult
	Fetch        *fetch.Result // nil when no request was made
	Requirements *model.Requirements
	Warnings     []string
	Err          *fetch.Error

	// Cache is the cache verdict; nil when the cache stage did not run.
	Cache *model.CacheVerdict
	// Live is reqdoctor's own comparison fetch when Codex would use the
	// cache and make no request; nil when none was made.
	Live *LiveCheck

	// CloudRequirements is what the cloud load delivered; Requirements is
	// the effective merge of the cloud over the local sources.
	CloudRequirements *model.Requirements
	// Local are the requirement sources on this machine, in Codex's order.
	Local []model.LocalSource
	// UserConfig is the user's own config.toml; nil when not read.
	UserConfig *model.UserConfig
	// PolicyChecks compare the user's config with the requirements.
	PolicyChecks []model.PolicyCheck
}

// LiveCheck compares a valid cache with what the server says now. Codex
// makes no such request; it tells whether the cache still matches and
// whether Codex will fail once it expires.
type LiveCheck struct {
	Fetch fetch.Result
	// Same: the live policies equal the cached ones.
	Same bool
	// Diff lists what changed, one line per field, when !Same.
	Diff []string
	// Err is why the live answer cannot replace the cache when it expires
	// (a failed fetch or an invalid policy); nil when it can.
	Err *fetch.Error
}

// Event is live progress of a run, for the TUI and plain mode.
type Event interface{ isEvent() }

// StageStarted says a stage began.
type StageStarted struct{ ID StageID }

// StageFinished carries a stage's verdict.
type StageFinished struct{ Result StageResult }

// FetchStarted gives the URL and the real deadline of the fetch, so a view
// can count down to it.
type FetchStarted struct {
	URL      string
	Deadline time.Time
	Timeout  time.Duration
}

// FetchProgress relays an attempt starting or ending, or a backoff wait.
type FetchProgress struct {
	Event fetch.Event
	At    time.Time
}

// Finished carries the final report.
type Finished struct{ Report *Report }

func (StageStarted) isEvent()  {}
func (StageFinished) isEvent() {}
func (FetchStarted) isEvent()  {}
func (FetchProgress) isEvent() {}
func (Finished) isEvent()      {}
