package model

import (
	"slices"
	"strings"
	"testing"
)

func TestEligiblePlans(t *testing.T) {
	req := EligiblePlans(ProtocolRequirements)
	if want := []string{"business", "enterprise_cbp_usage_based", "enterprise", "hc"}; !slices.Equal(req, want) {
		t.Errorf("requirements plans = %v, want %v", req, want)
	}
	bun := EligiblePlans(ProtocolBundle)
	if want := []string{"enterprise", "business", "edu", "education", "edu_plus", "edu_pro", "enterprise_cbp_usage_based", "ent26", "hc", "sci"}; !slices.Equal(bun, want) {
		t.Errorf("bundle plans = %v, want %v", bun, want)
	}
	req[0] = "changed"
	if EligiblePlans(ProtocolRequirements)[0] != "business" {
		t.Error("EligiblePlans returned its internal slice")
	}
}

func TestPlanEligibility(t *testing.T) {
	type want struct {
		ok     bool
		reason string
	}
	tests := []struct {
		plan    string
		hasPlan bool
		req     want // requirements protocol
		bun     want // bundle protocol
	}{
		{"enterprise", true, want{true, "`enterprise` is a plan Codex requests"}, want{true, "bundle protocol"}},
		{"business", true, want{true, ""}, want{true, ""}},
		{"enterprise_cbp_usage_based", true, want{true, ""}, want{true, ""}},
		{"hc", true, want{true, ""}, want{true, ""}},
		{"edu", true, want{false, "`edu` gets cloud requirements only from Codex 0.137 (bundle protocol)"}, want{true, ""}},
		{"education", true, want{false, "only from Codex 0.137"}, want{true, ""}},
		{"edu_plus", true, want{false, "only from Codex 0.137"}, want{true, ""}},
		{"edu_pro", true, want{false, "only from Codex 0.137"}, want{true, ""}},
		{"ent26", true, want{false, "only from Codex 0.137"}, want{true, ""}},
		{"sci", true, want{false, "only from Codex 0.137"}, want{true, ""}},
		{"ENTERPRISE", true,
			want{false, "Codex reads plan names in lowercase only, so it treats `ENTERPRISE` as an unknown plan"},
			want{false, "Codex reads plan names in lowercase only, so it treats `ENTERPRISE` as an unknown plan"}},
		{"Business", true, want{false, "lowercase only"}, want{false, "lowercase only"}},
		{"EDU", true, want{false, "lowercase only"}, want{false, "lowercase only"}},
		{"pro", true,
			want{false, "`pro` is not a Business or Enterprise plan; Codex makes no request for it"},
			want{false, "`pro` is not a Business, Enterprise or Edu plan; Codex makes no request for it"}},
		{"team", true, want{false, "`team` is not a"}, want{false, "`team` is not a"}},
		{"plus", true, want{false, "is not a"}, want{false, "is not a"}},
		{"free", true, want{false, "is not a"}, want{false, "is not a"}},
		{" enterprise", true, want{false, "is not a"}, want{false, "is not a"}},
		{"", true, want{false, "chatgpt_plan_type claim is empty"}, want{false, "chatgpt_plan_type claim is empty"}},
		{"", false, want{false, "the id_token has no chatgpt_plan_type claim"}, want{false, "the id_token has no chatgpt_plan_type claim"}},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			p Protocol
			w want
		}{{ProtocolRequirements, tt.req}, {ProtocolBundle, tt.bun}} {
			ok, reason := PlanEligibility(c.p, tt.plan, tt.hasPlan)
			if ok != c.w.ok || !strings.Contains(reason, c.w.reason) {
				t.Errorf("PlanEligibility(%s, %q, %v) = %v, %q; want %v, containing %q", c.p, tt.plan, tt.hasPlan, ok, reason, c.w.ok, c.w.reason)
			}
			if reason == "" {
				t.Errorf("PlanEligibility(%s, %q) gave no reason", c.p, tt.plan)
			}
		}
	}
}
