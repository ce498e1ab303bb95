package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// setupVersion is 'paddock version'.
func setupVersion(_ *flag.FlagSet, cl *cli) runFunc {
	return func(_ context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("version takes no arguments")
		}
		info, ok := debug.ReadBuildInfo()
		if !ok {
			info = nil
		}
		fmt.Fprint(cl.out, versionText(info))
		return nil
	}
}

// versionText describes the build from its build information (nil when
// the binary has none): the main module's version, the VCS revision and
// commit time it was built from, and the Go version. What is unknown reads
// "devel" (the version) or "unknown".
func versionText(info *debug.BuildInfo) string {
	version, module, goVersion := "devel", "unknown", runtime.Version()
	revision, at, modified := "unknown", "unknown", false
	if info != nil {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
		if info.Main.Path != "" {
			module = info.Main.Path
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		revision += " (modified)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "paddock %s\n", version)
	fmt.Fprintf(&b, "  module:    %s\n", module)
	fmt.Fprintf(&b, "  revision:  %s\n", revision)
	fmt.Fprintf(&b, "  committed: %s\n", at)
	fmt.Fprintf(&b, "  go:        %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
