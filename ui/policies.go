package ui

import "github.com/reqdoctor/reqdoctor/model"

// policyRows returns the rows of the policies table of req (nil → none).
func policyRows(req *model.Requirements) []model.PolicyRow {
	if req == nil {
		return nil
	}
	return req.Rows()
}
