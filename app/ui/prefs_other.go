//go:build !(js && wasm)

package ui

import "github.com/dashstream/dashstream/app/cursors"

func browserPrefs() cursors.Storage { return cursors.NewMemoryStorage() }
