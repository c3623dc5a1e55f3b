package ui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
)

// keyMap is the TUI's keys; it implements help.KeyMap.
type keyMap struct {
	Quit  key.Binding
	Rerun key.Binding
	Help  key.Binding
	Copy  key.Binding
	Table table.KeyMap
}

func newKeyMap() keyMap {
	t := table.DefaultKeyMap()
	t.LineUp.SetHelp("↑/k", "up")
	t.LineDown.SetHelp("↓/j", "down")
	return keyMap{
		Quit:  key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Rerun: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-run")),
		Help:  key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		// Enabled once a run has finished: there is a report to copy.
		Copy:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy report"), key.WithDisabled()),
		Table: t,
	}
}

// setTableEnabled shows the table keys in the help only while there is a
// table to move in.
func (k *keyMap) setTableEnabled(on bool) {
	for _, b := range []*key.Binding{
		&k.Table.LineUp, &k.Table.LineDown, &k.Table.PageUp, &k.Table.PageDown,
		&k.Table.HalfPageUp, &k.Table.HalfPageDown, &k.Table.GotoTop, &k.Table.GotoBottom,
	} {
		b.SetEnabled(on)
	}
}

// ShortHelp is the one-line help at the bottom.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Table.LineUp, k.Table.LineDown, k.Copy, k.Rerun, k.Help, k.Quit}
}

// FullHelp is the help shown after "?".
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Table.LineUp, k.Table.LineDown, k.Table.PageUp, k.Table.PageDown},
		{k.Table.GotoTop, k.Table.GotoBottom, k.Table.HalfPageUp, k.Table.HalfPageDown},
		{k.Copy, k.Rerun, k.Help, k.Quit},
	}
}
