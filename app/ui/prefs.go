package ui

import (
	"sync"

	"github.com/dashstream/dashstream/app/cursors"
)

// Preferences of the views that outlive a page (the graph panel folded or
// not) live in the browser's localStorage through cursors.Storage, the
// adapter the cursor store uses; natively, and where localStorage is
// denied, in memory.
var (
	prefsOnce  sync.Once
	prefsStore cursors.Storage
)

// prefs returns the preference storage (opened on first use).
func prefs() cursors.Storage {
	prefsOnce.Do(func() { prefsStore = browserPrefs() })
	return prefsStore
}

// prefGraphFolded is the key of the graph panel's folded state: "1"
// folded, absent or anything else open.
const prefGraphFolded = "dashstream.ui.graph-folded"

func graphFolded() bool {
	v, _ := prefs().Get(prefGraphFolded)
	return v == "1"
}

func setGraphFolded(folded bool) {
	if !folded {
		prefs().Remove(prefGraphFolded)
		return
	}
	// A full storage only loses the preference.
	_ = prefs().Set(prefGraphFolded, "1")
}
