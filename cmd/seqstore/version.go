package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionLine says which seqstore this is: the module version (or the one
// set at link time with -ldflags "-X main.version=..."), the commit it was
// built from and whether the tree had changes, as the build recorded them.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "seqstore " + version + " (no build information)"
	}
	v := version
	if v == "dev" && info.Main.Version != "" {
		v = info.Main.Version // v1.2.3 from go install, (devel) from a checkout
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

func printVersion(w io.Writer) {
	fmt.Fprintln(w, versionLine())
}
