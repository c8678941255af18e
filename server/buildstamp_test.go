package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildStamp_LdflagsThenVCSThenUnknown(t *testing.T) {
	vcs := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	cases := []struct {
		name, sha, date string
		info            *debug.BuildInfo
		wantSHA, wantAt string
	}{
		{"ldflags win", "fff", "2020-01-01T00:00:00Z", vcs, "fff", "2020-01-01T00:00:00Z"},
		{"vcs of go build", "", "", vcs, "abc123-dirty", "2026-01-02T03:04:05Z"},
		{"nothing known", "", "", &debug.BuildInfo{}, "unknown", "unknown"},
		{"no build info", "", "", nil, "unknown", "unknown"},
	}
	for _, c := range cases {
		sha, at := buildStamp(c.sha, c.date, c.info)
		if sha != c.wantSHA || at != c.wantAt {
			t.Errorf("%s: %q %q, want %q %q", c.name, sha, at, c.wantSHA, c.wantAt)
		}
	}
}

// The Makefile's stamp reaches the binary: built with `make stamp-ldflags`
// (what make run passes to go run), --version names the checked-out commit.
func TestBuildStamp_MakefileStampsTheBinary(t *testing.T) {
	git := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			t.Skipf("not a git checkout (git %v: %v)", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	head, commitTime := git("rev-parse", "HEAD"), git("log", "-1", "--format=%cI")
	flags, err := exec.Command("make", "-s", "--no-print-directory", "-C", "..", "stamp-ldflags").Output()
	if err != nil {
		t.Fatalf("make stamp-ldflags: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	if out, err := exec.Command("go", "build", "-ldflags", strings.TrimSpace(string(flags)), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	var v struct{ GitSHA, BuildDate string }
	if err := json.Unmarshal(out, &struct {
		GitSHA    *string `json:"git_sha"`
		BuildDate *string `json:"build_date"`
	}{&v.GitSHA, &v.BuildDate}); err != nil {
		t.Fatalf("--version printed %q: %v", out, err)
	}
	if strings.TrimSuffix(v.GitSHA, "-dirty") != head || v.BuildDate != commitTime {
		t.Errorf("--version: %+v, want commit %s at %s", v, head, commitTime)
	}
}
