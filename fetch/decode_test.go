package fetch

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/reqdoctor/reqdoctor/model"
)

func readFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "testdata", "fetch"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func strPtr(s string) *string { return &s }

func TestDecode(t *testing.T) {
	req, bun := model.ProtocolRequirements, model.ProtocolBundle
	tests := []struct {
		file    string
		proto   model.Protocol
		class   string // "" → success
		errHas  string
		payload *Payload
	}{
		{"requirements_ok.json", req, "", "", &Payload{Contents: strPtr("allowed_sandbox_modes = [\"read-only\"]\n")}},
		{"requirements_null.json", req, "", "", &Payload{}},
		{"requirements_absent.json", req, "", "", &Payload{}},
		{"bundle_empty.json", req, "", "", &Payload{}},
		{"requirements_number.json", req, "wrong_shape", "`contents` is a number, expected a string or null", nil},
		{"requirements_array.json", req, "wrong_shape", "`contents` is an array", nil},
		{"requirements_sha_number.json", req, "wrong_shape", "`sha256` is a number, expected a string or null", nil},
		{"requirements_meta_nulls.json", req, "", "", &Payload{}},
		{"top_array.json", req, "wrong_shape", "body is JSON an array, expected an object", nil},
		{"top_null.json", bun, "wrong_shape", "body is JSON null, expected an object", nil},
		{"empty.json", req, "bad_json", "body is empty", nil},
		{"truncated.json", req, "bad_json", "body is not JSON: unexpected end of JSON input", nil},
		{"missing_comma.json", bun, "bad_json", "at line 3, column 3", nil},
		{"html_page.html", bun, "bad_json", "invalid character '<' looking for beginning of value at line 1, column 1", nil},
		{"bundle_full.json", bun, "", "", &Payload{
			ConfigFragments: []model.Fragment{{ID: "c1", Name: "base config", Contents: "model = \"o3\"\n"}},
			RequirementsFragments: []model.Fragment{
				{ID: "r1", Name: "security", Contents: "allowed_sandbox_modes = [\"read-only\"]\n"},
				{ID: "r2", Name: "web", Contents: "allowed_web_search_modes = [\"cached\"]\n"},
			},
		}},
		{"bundle_empty.json", bun, "", "", &Payload{}},
		{"bundle_nulls.json", bun, "", "", &Payload{}},
		{"bundle_empty_lists.json", bun, "", "", &Payload{}},
		{"bundle_section_empty.json", bun, "", "", &Payload{}},
		{"bundle_missing_ids.json", bun, "", "", &Payload{RequirementsFragments: []model.Fragment{{Contents: "enforce_residency = \"us\"\n"}}}},
		{"bundle_legacy.json", bun, "", "", &Payload{LegacyShape: true}},
		{"bundle_id_number.json", bun, "wrong_shape", "`requirements_toml.enterprise_managed[0].id` is a number, expected a string", nil},
		{"bundle_missing_contents.json", bun, "wrong_shape", "`requirements_toml.enterprise_managed[0].contents` is missing", nil},
		{"bundle_list_object.json", bun, "wrong_shape", "`requirements_toml.enterprise_managed` is an object, expected an array or null", nil},
		{"bundle_section_string.json", bun, "wrong_shape", "`requirements_toml` is a string, expected an object or null", nil},
		{"bundle_fragment_string.json", bun, "wrong_shape", "`config_toml.enterprise_managed[0]` is a string", nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.proto)+"/"+tc.file, func(t *testing.T) {
			p, err := Decode(tc.proto, readFixture(t, "decode", tc.file))
			if tc.class == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !reflect.DeepEqual(p, tc.payload) {
					t.Fatalf("payload = %+v, want %+v", p, tc.payload)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (payload %+v), want a DecodeError", err, p)
			}
			if de.Class != tc.class || !strings.Contains(de.Msg, tc.errHas) {
				t.Fatalf("err = %s %q, want %s containing %q", de.Class, de.Msg, tc.class, tc.errHas)
			}
		})
	}
}
