//go:build !linux

package assets

import (
	"os"
	"time"
)

// stamp identifies a version of a file by size and modification time.
type stamp struct {
	size int64
	mod  time.Time
}

func stampOf(fi os.FileInfo) stamp { return stamp{size: fi.Size(), mod: fi.ModTime()} }
