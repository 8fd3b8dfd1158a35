package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// printVersion says which seqstore this is, from the build information.
func printVersion(w io.Writer) {
	info, _ := debug.ReadBuildInfo() // nil when the binary has none
	fmt.Fprintln(w, versionLine(version, info))
}

// versionLine names the module version (or the one set at link time with
// -ldflags "-X main.version=..."), the commit the binary was built from,
// whether the tree had changes, and the Go release, as the build recorded
// them. info is nil for a binary without build information.
func versionLine(linked string, info *debug.BuildInfo) string {
	if info == nil {
		return "seqstore " + linked + " (no build information)"
	}
	v := linked
	if v == "dev" && info.Main.Version != "" {
		// v1.2.3 from go install, a pseudo-version from a clone, (devel)
		// where the go command could not tell.
		v = info.Main.Version
	}
	commit, modified, at := "", false, ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		case "vcs.time":
			at = s.Value
		}
	}
	line := "seqstore " + v
	switch {
	case commit == "":
		line += " (commit unknown: built without version control information)"
	case modified:
		line += fmt.Sprintf(" (commit %s, %s, with local changes)", commit, at)
	default:
		line += fmt.Sprintf(" (commit %s, %s)", commit, at)
	}
	return line + " " + info.GoVersion
}
