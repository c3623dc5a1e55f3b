package model

import "fmt"

// formatLocated renders "path:line:col: msg" leaving out unknown parts.
func formatLocated(path string, line, col int, msg string) string {
	switch {
	case line > 0 && col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", path, line, col, msg)
	case line > 0:
		return fmt.Sprintf("%s:%d: %s", path, line, msg)
	default:
		return fmt.Sprintf("%s: %s", path, msg)
	}
}
