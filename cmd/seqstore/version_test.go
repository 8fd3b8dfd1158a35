package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "4b8065ad2f5402978434aa417311b42db34a5f35"},
			{Key: "vcs.time", Value: "2026-12-02T22:39:34Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	build := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/seqstore/seqstore", Version: version}, Settings: settings}
	}
	for _, tc := range []struct {
		name   string
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"go install of a release", "dev", build("v1.2.3", nil),
			"seqstore v1.2.3 (commit unknown: built without version control information) go1.26.8"},
		{"clean clone", "dev", build("v0.0.0-20261202223934-4b8065ad2f54", vcs("false")),
			"seqstore v0.0.0-20261202223934-4b8065ad2f54 (commit 4b8065ad2f5402978434aa417311b42db34a5f35, 2026-12-02T22:39:34Z) go1.26.8"},
		{"clone with changes", "dev", build("(devel)", vcs("true")),
			"seqstore (devel) (commit 4b8065ad2f5402978434aa417311b42db34a5f35, 2026-12-02T22:39:34Z, with local changes) go1.26.8"},
		{"version set at link time", "v2.0.0", build("(devel)", vcs("false")),
			"seqstore v2.0.0 (commit 4b8065ad2f5402978434aa417311b42db34a5f35, 2026-12-02T22:39:34Z) go1.26.8"},
		{"no build information", "dev", nil, "seqstore dev (no build information)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.linked, tc.info); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
