package fetch

import (
	"errors"
	"strings"
	"testing"

	"github.com/reqdoctor/reqdoctor/model"
)

// FuzzDecode feeds arbitrary bodies to Decode for both protocols: it must
// never panic, fail only with a *DecodeError of a known class and a
// message, and its display form must hold no control characters.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `1`, `<html>`, `{"contents":"allowed_sandbox_modes = [\"read-only\"]"}`,
		`{"contents":null,"sha256":1}`, `{"contents":"\u001b[31mred"}`,
		`{"config_toml":{"enterprise_managed":[{"id":"c1","name":"n","contents":"model = \"o3\""}]},"requirements_toml":{"enterprise_managed":[{"id":"r1","name":"s","contents":"enforce_residency = \"us\""}]}}`,
		`{"config_toml":null,"requirements_toml":{"enterprise_managed":null}}`,
		`{"requirements_toml":{"enterprise_managed":[{"id":1}]}}`, `{"requirements_toml":{"enterprise_managed":[null]}}`,
		`{"requirements_toml":{"enterprise_managed":{}}}`, `{"config_toml":[]}`, `{"a":` + strings.Repeat("[", 100),
		"{\"contents\":\"x\"}\n{}", "\xff\xfe{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range []model.Protocol{model.ProtocolRequirements, model.ProtocolBundle} {
			pl, err := Decode(p, body)
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || (de.Class != "bad_json" && de.Class != "wrong_shape") || de.Msg == "" {
					t.Fatalf("%s: error %#v", p, err)
				}
				class, msg := describeDecodeErr(err)
				if class != de.Class || msg == "" {
					t.Fatalf("%s: describeDecodeErr = %q, %q", p, class, msg)
				}
				if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("%s: display message holds control characters: %q", p, msg)
				}
				continue
			}
			if pl == nil {
				t.Fatalf("%s: nil payload and nil error", p)
			}
			if p == model.ProtocolRequirements && (pl.RequirementsFragments != nil || pl.ConfigFragments != nil) {
				t.Fatalf("requirements payload with fragments: %+v", pl)
			}
			for _, fr := range pl.RequirementsFragments {
				if _, err := model.ParseRequirements(fr.Contents, model.FragmentSource(fr)); err != nil && err.Error() == "" {
					t.Fatal("empty requirements error")
				}
			}
		}
	})
}
