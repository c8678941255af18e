//go:build !(js && wasm)

package session

import (
	"time"

	"github.com/dashstream/dashstream/app/cursors"
)

func pageOrigin() string { return "" }

func defaultStorage() cursors.Storage { return cursors.NewMemoryStorage() }

func bindLifecycle(*cursors.Store) func() { return func() {} }

// dialTimeout bounds a native dial.
const dialTimeout = 10 * time.Second

const abandonAfterClose = false
