// Package buildinfo names the build of the module's programs for their
// --version and their start log line.
package buildinfo

import "runtime/debug"

// Version is set, when it is not empty (a release build sets it with
// -ldflags "-X …=1.2.3"); otherwise the module's version from the build
// information, else the VCS revision ("git-<12 hex>", with "-dirty" for a
// modified tree), else "devel" (a build with -buildvcs=false from a work
// tree has neither).
func Version(set string) string {
	if set != "" {
		return set
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return fromInfo(info)
}

func fromInfo(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) >= 12 {
		v := "git-" + rev[:12]
		if dirty {
			v += "-dirty"
		}
		return v
	}
	return "devel"
}
