package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
	"github.com/reqdoctor/reqdoctor/doctor"
)

// benchPipeline runs the whole diagnosis against a loopback server that
// answers the bundle request at once with body, from a throw-away
// CODEX_HOME and an empty stand-in for /etc/codex.
func benchPipeline(b *testing.B, body []byte) {
	// The fetch reads CA and proxy variables from the process environment
	// (Options.Getenv does not reach it); empty them so every machine
	// measures the same thing: no proxy, the system roots.
	for _, k := range []string{"CODEX_CA_CERTIFICATE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		b.Setenv(k, "")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	home, sysDir, err := benchdata.WriteHome(b.TempDir(), srv.URL+"/backend-api/", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"CODEX_HOME": home, "HOME": b.TempDir()}
	opts := doctor.Options{
		CodexHome: home, Protocol: "bundle", SystemConfigDir: sysDir,
		Getenv:   func(k string) string { return env[k] },
		UserHome: func() (string, error) { return env["HOME"], nil },
		Codex:    func(context.Context) doctor.CodexInfo { return doctor.CodexInfo{} },
	}
	b.ReportAllocs()
	for b.Loop() {
		rep := doctor.Run(context.Background(), opts, nil)
		if rep.Outcome != doctor.OutcomeRequirements || rep.ExitCode != doctor.ExitOK {
			b.Fatalf("outcome %s, exit %d, error %v", rep.Outcome, rep.ExitCode, rep.Err)
		}
	}
}

// BenchmarkRunSmallPolicy: the pipeline with a one-server policy, the
// in-process part of the end-to-end figure.
func BenchmarkRunSmallPolicy(b *testing.B) {
	benchPipeline(b, benchdata.BundleBody(benchdata.Fragments(1, 1)))
}

// BenchmarkRun5000Servers: the pipeline with a ~1 MiB single-fragment
// bundle of 5,000 MCP servers.
func BenchmarkRun5000Servers(b *testing.B) {
	benchPipeline(b, benchdata.BundleBody(benchdata.Fragments(1, 5000)))
}

// BenchmarkRunBundle200Fragments: the same servers in 200 fragments.
func BenchmarkRunBundle200Fragments(b *testing.B) {
	benchPipeline(b, benchdata.BundleBody(benchdata.Fragments(200, 5000)))
}
