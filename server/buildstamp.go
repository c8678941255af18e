package main

import (
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.gitSHA=… -X main.buildDate=…"
// (the Makefile does: make stamp-ldflags prints the flags).
var (
	gitSHA    = ""
	buildDate = ""
)

// buildStamp names the build for /version: the -ldflags values when set,
// else the VCS information `go build` records (revision, commit time, and
// "-dirty" for a modified tree; absent with -buildvcs=false or go run), else
// "unknown".
func buildStamp(sha, date string, info *debug.BuildInfo) (string, string) {
	var rev, at string
	modified := false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if sha == "" && rev != "" {
		sha = rev
		if modified {
			sha += "-dirty"
		}
	}
	if date == "" {
		date = at
	}
	if sha == "" {
		sha = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	return sha, date
}

// stamp is this binary's build stamp.
func stamp() (sha, date string) {
	info, _ := debug.ReadBuildInfo()
	return buildStamp(gitSHA, buildDate, info)
}
