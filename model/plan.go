package model

import (
	"fmt"
	"slices"
	"strings"
)

// Plans for which Codex requests cloud requirements (codex-behavior.md,
// observed with released binaries).
var (
	requirementsPlans = []string{"business", "enterprise_cbp_usage_based", "enterprise", "hc"}
	bundlePlans       = []string{"enterprise", "business", "edu", "education", "edu_plus", "edu_pro", "enterprise_cbp_usage_based", "ent26", "hc", "sci"}
)

// EligiblePlans returns the chatgpt_plan_type values for which Codex of
// protocol generation p makes a request. The slice is a copy.
func EligiblePlans(p Protocol) []string {
	if p == ProtocolRequirements {
		return slices.Clone(requirementsPlans)
	}
	return slices.Clone(bundlePlans)
}

// PlanEligibility says whether Codex of generation p requests cloud
// requirements for plan, and why. Plan names are compared exactly, as
// Codex does: "ENTERPRISE" is an unknown plan to it.
func PlanEligibility(p Protocol, plan string, hasPlan bool) (eligible bool, reason string) {
	if !hasPlan {
		return false, "the id_token has no chatgpt_plan_type claim"
	}
	if plan == "" {
		return false, "the id_token's chatgpt_plan_type claim is empty"
	}
	if slices.Contains(EligiblePlans(p), plan) {
		return true, fmt.Sprintf("`%s` is a plan Codex requests cloud requirements for (%s)", plan, protocolLabel(p))
	}
	lower := strings.ToLower(plan)
	if lower != plan && (slices.Contains(requirementsPlans, lower) || slices.Contains(bundlePlans, lower)) {
		return false, fmt.Sprintf("Codex reads plan names in lowercase only, so it treats `%s` as an unknown plan and makes no request", plan)
	}
	other := otherProtocol(p)
	if slices.Contains(EligiblePlans(other), plan) {
		if other == ProtocolBundle {
			return false, fmt.Sprintf("`%s` gets cloud requirements only from Codex 0.137 (bundle protocol); this Codex (requirements protocol) makes no request", plan)
		}
		return false, fmt.Sprintf("`%s` gets cloud requirements only up to Codex 0.136 (requirements protocol); this Codex (bundle protocol) makes no request", plan)
	}
	kinds := "a Business, Enterprise or Edu plan"
	if p == ProtocolRequirements {
		kinds = "a Business or Enterprise plan"
	}
	return false, fmt.Sprintf("`%s` is not %s; Codex makes no request for it", plan, kinds)
}

func otherProtocol(p Protocol) Protocol {
	if p == ProtocolRequirements {
		return ProtocolBundle
	}
	return ProtocolRequirements
}

func protocolLabel(p Protocol) string {
	if p == ProtocolRequirements {
		return "requirements protocol, Codex ≤ 0.136"
	}
	return "bundle protocol, Codex ≥ 0.137"
}
