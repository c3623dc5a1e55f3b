package doctor

import (
	"context"
	"os"

	"github.com/reqdoctor/reqdoctor/fetch"
)

// DemoOptions points a run at a demo's backend and throw-away CODEX_HOME.
// A protocol or timeout the user chose still wins.
func DemoOptions(opts Options, demo *fetch.Demo) Options {
	opts.CodexHome = demo.CodexHome
	opts.Demo = demo.Scenario.Name
	if opts.SystemConfigDir == "" {
		opts.SystemConfigDir = demo.SystemConfigDir
	}
	if opts.Protocol == "auto" || opts.Protocol == "" {
		opts.Protocol = string(demo.Scenario.Protocol)
		opts.protocolFromDemo = true
	}
	if opts.Timeout == 0 {
		opts.Timeout = demo.Scenario.Timeout
	}
	// The demo's backend is on loopback; a proxy of the user's must not
	// be asked to reach it.
	opts.Proxy = fetch.Direct
	// The demo speaks for a Codex of its scenario's generation, not for any
	// codex binary that happens to be installed.
	opts.Codex = func(context.Context) CodexInfo { return CodexInfo{} }
	// The demo's login is the only one in play: keys in the user's own
	// environment must not show up in it.
	opts.Getenv = func(k string) string {
		switch k {
		case "OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_HOME":
			return ""
		}
		return os.Getenv(k)
	}
	return opts
}
