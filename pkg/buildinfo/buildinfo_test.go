package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersion(t *testing.T) {
	assert.Equal(t, "1.2.3", Version("1.2.3"), "a release build's version wins")
	assert.NotEmpty(t, Version(""))
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1cb26fc0123456789abcdef"}, {Key: "vcs.modified", Value: "false"}}}, "git-1cb26fc01234"},
		{"modified tree", debug.BuildInfo{Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1cb26fc0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}}, "git-1cb26fc01234-dirty"},
		{"nothing", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, fromInfo(&tc.info)) })
	}
}
