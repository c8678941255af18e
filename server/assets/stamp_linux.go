package assets

import (
	"os"
	"syscall"
	"time"
)

// stamp identifies a version of a file: size and modification time, plus
// inode and change time, which no tool sets back (brotli and touch set the
// modification time; a rewrite in place still moves the change time).
type stamp struct {
	size      int64
	mod       time.Time
	ino       uint64
	ctimeSec  int64
	ctimeNsec int64
}

func stampOf(fi os.FileInfo) stamp {
	s := stamp{size: fi.Size(), mod: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino, s.ctimeSec, s.ctimeNsec = st.Ino, st.Ctim.Sec, st.Ctim.Nsec
	}
	return s
}
