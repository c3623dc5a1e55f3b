package model

import (
	"strings"
	"testing"
)

func TestMaskSecret(t *testing.T) {
	jwt := rawJWT(`{"sub":"someone","exp":1796402656}`)
	tests := []struct{ in, want string }{
		{"", "(empty)"},
		{"sk-fixture-key-000000000000wxyz", "sk-…wxyz"},
		{"sk-proj-fixture-key-000000000000abcd", "sk-proj-…abcd"},
		{jwt, "JWT…" + jwt[len(jwt)-4:]},
		{"rt-fixture-refresh-0001", "…0001"},
		{"short", "…(5 chars)"},
		{"sk-short", "sk-…(8 chars)"},
	}
	for _, tt := range tests {
		got := MaskSecret(tt.in)
		if got != tt.want {
			t.Errorf("MaskSecret(%q) = %q, want %q", tt.in, got, tt.want)
		}
		_, tail, _ := strings.Cut(got, "…")
		if !strings.HasSuffix(tail, " chars)") && len(tail) > 4 {
			t.Errorf("MaskSecret(%q) = %q shows more than 4 characters", tt.in, got)
		}
	}
}
