package model_test

import (
	"testing"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
	"github.com/reqdoctor/reqdoctor/model"
)

// Scale of BENCHMARKS.md: about 1 MiB of requirements, 5,000 MCP servers.
const (
	benchServers   = 5000
	benchFragments = 200
)

// parseMergeValidate is what the parse stage does with a response: parse
// each document, merge first-wins, run Codex's rules.
func parseMergeValidate(b *testing.B, frags []model.Fragment) *model.Requirements {
	layers := make([]*model.Layer, len(frags))
	for i, f := range frags {
		l, err := model.ParseRequirements(f.Contents, model.FragmentSource(f))
		if err != nil {
			b.Fatalf("fragment %s: %v", f.ID, err)
		}
		layers[i] = l
	}
	req := model.Merge(layers...)
	if err := req.Validate(); err != nil {
		b.Fatalf("validate: %v", err)
	}
	return req
}

func toModel(fs []benchdata.Fragment) []model.Fragment {
	out := make([]model.Fragment, len(fs))
	for i, f := range fs {
		out[i] = model.Fragment{ID: f.ID, Name: f.Name, Contents: f.Contents}
	}
	return out
}

func checkServers(b *testing.B, req *model.Requirements, want int) {
	servers, _ := req.Fields[model.FieldMCPServers].(map[string]any)
	if len(servers) != want {
		b.Fatalf("merged mcp_servers has %d servers, want %d", len(servers), want)
	}
}

// BenchmarkParseMergeValidate5000Servers: one ~1 MiB document.
func BenchmarkParseMergeValidate5000Servers(b *testing.B) {
	frags := []model.Fragment{{ID: "frag-big", Name: "Bench policy", Contents: benchdata.Requirements(benchServers)}}
	b.SetBytes(int64(len(frags[0].Contents)))
	b.ReportAllocs()
	var req *model.Requirements
	for b.Loop() {
		req = parseMergeValidate(b, frags)
	}
	checkServers(b, req, benchServers)
}

// BenchmarkParseMergeValidateBundle200Fragments: the same servers split
// over 200 fragments; only the first fragment's mcp_servers wins.
func BenchmarkParseMergeValidateBundle200Fragments(b *testing.B) {
	frags := toModel(benchdata.Fragments(benchFragments, benchServers))
	n := 0
	for _, f := range frags {
		n += len(f.Contents)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var req *model.Requirements
	for b.Loop() {
		req = parseMergeValidate(b, frags)
	}
	checkServers(b, req, benchServers/benchFragments)
}

// BenchmarkRows5000Servers: the policies-table rows of the big merge.
func BenchmarkRows5000Servers(b *testing.B) {
	req := parseMergeValidate(b, []model.Fragment{{ID: "frag-big", Name: "Bench policy", Contents: benchdata.Requirements(benchServers)}})
	b.ReportAllocs()
	for b.Loop() {
		if rows := req.Rows(); len(rows) == 0 {
			b.Fatal("no rows")
		}
	}
}
