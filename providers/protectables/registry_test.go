package protectables_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/protectables"
)

// fake is a plugin answering from a table: dependents by parent id.
type fake struct {
	typ     string
	parents []string
	deps    map[string][]graph.Resource
	err     map[string]error // by parent id
}

func (f *fake) ResourceType() string  { return f.typ }
func (f *fake) ParentTypes() []string { return f.parents }
func (f *fake) List(context.Context, *karbor.RequestContext, protectables.Parameters) ([]graph.Resource, error) {
	return nil, errors.New("not listed")
}
func (f *fake) Show(context.Context, *karbor.RequestContext, string, protectables.Parameters) (*graph.Resource, error) {
	return nil, nil
}
func (f *fake) Dependents(_ context.Context, _ *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	if err := f.err[parent.ID]; err != nil {
		return nil, err
	}
	return f.deps[parent.ID], nil
}

func res(typ, id string) graph.Resource { return graph.Resource{Type: typ, ID: id, Name: id} }

func logCtx() (context.Context, *test.Hook) {
	l, hook := test.NewNullLogger()
	return logctx.With(context.Background(), logrus.NewEntry(l)), hook
}

func init() {
	protectables.Register("zz-broken", func(context.Context, *config.Config) (protectables.Plugin, error) {
		return nil, errors.New("cannot build")
	})
	protectables.Register("zz-nil", func(context.Context, *config.Config) (protectables.Plugin, error) { return nil, nil })
}

func TestLoadSkipsBrokenPlugins(t *testing.T) {
	ctx, hook := logCtx()
	reg := protectables.Load(ctx, nil)
	assert.Equal(t, []string{karbor.ProjectResourceType}, reg.Types())
	var warned []string
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warned = append(warned, e.Data["plugin"].(string))
		}
	}
	assert.Equal(t, []string{"zz-broken", "zz-nil"}, warned)
	assert.Equal(t, []string{"project", "zz-broken", "zz-nil"}, protectables.Plugins())
}

func TestRegisterPanics(t *testing.T) {
	f := func(context.Context, *config.Config) (protectables.Plugin, error) { return nil, nil }
	assert.Panics(t, func() { protectables.Register("", f) })
	assert.Panics(t, func() { protectables.Register("x-nil", nil) })
	assert.Panics(t, func() { protectables.Register("project", f) })
}

// world is a project with two servers sharing a volume; server a also has a
// boot image; the database plugin cannot list.
func world() *protectables.Registry {
	srvA, srvB := res(karbor.ServerResourceType, "a"), res(karbor.ServerResourceType, "b")
	vol, img := res(karbor.VolumeResourceType, "v"), res(karbor.ImageResourceType, "i")
	failed := karbor.ListProtectableResourceFailed(karbor.DatabaseResourceType, "down")
	log := logrus.NewEntry(logrus.New())
	return protectables.NewRegistry(log,
		&fake{typ: karbor.DatabaseResourceType, parents: []string{karbor.ProjectResourceType}, err: map[string]error{"p": failed}},
		&fake{typ: karbor.ImageResourceType, parents: []string{karbor.ServerResourceType}, deps: map[string][]graph.Resource{"a": {img}}},
		protectables.Project{},
		&fake{typ: karbor.ServerResourceType, parents: []string{karbor.ProjectResourceType}, deps: map[string][]graph.Resource{"p": {srvA, srvB}}},
		&fake{typ: karbor.VolumeResourceType, parents: []string{karbor.ServerResourceType, karbor.ProjectResourceType},
			deps: map[string][]graph.Resource{"a": {vol}, "b": {vol}, "p": {vol}}},
	)
}

func TestDependents(t *testing.T) {
	ctx, hook := logCtx()
	reg := world()
	rc := &karbor.RequestContext{ProjectID: "p"}

	got, err := reg.Dependents(ctx, rc, res(karbor.ServerResourceType, "a"))
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{res(karbor.ImageResourceType, "i"), res(karbor.VolumeResourceType, "v")}, got, "load order: image before volume")

	got, err = reg.Dependents(ctx, rc, res(karbor.ProjectResourceType, "p"))
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{res(karbor.ServerResourceType, "a"), res(karbor.ServerResourceType, "b"), res(karbor.VolumeResourceType, "v")}, got)
	require.Len(t, hook.AllEntries(), 1, "the database failure is logged and skipped")
	assert.Equal(t, logrus.ErrorLevel, hook.LastEntry().Level)

	got, err = reg.Dependents(ctx, rc, res(karbor.VolumeResourceType, "v"))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestDependentsOtherErrorsPropagate(t *testing.T) {
	ctx, _ := logCtx()
	boom := karbor.ProtectableResourceNotFound("a", karbor.ServerResourceType, "gone")
	reg := protectables.NewRegistry(logrus.NewEntry(logrus.New()),
		&fake{typ: karbor.VolumeResourceType, parents: []string{karbor.ServerResourceType}, err: map[string]error{"a": boom}})
	_, err := reg.Dependents(ctx, &karbor.RequestContext{}, res(karbor.ServerResourceType, "a"))
	assert.ErrorIs(t, err, boom)
	_, err = reg.BuildGraph(ctx, &karbor.RequestContext{}, []graph.Resource{res(karbor.ServerResourceType, "a")})
	assert.ErrorIs(t, err, boom)
}

func TestBuildGraph(t *testing.T) {
	ctx, hook := logCtx()
	reg := world()
	// The plan lists the volume, then the project: the volume is found again
	// under both servers and the project, and is no root.
	g, err := reg.BuildGraph(ctx, &karbor.RequestContext{ProjectID: "p"},
		[]graph.Resource{res(karbor.VolumeResourceType, "v"), res(karbor.ProjectResourceType, "p")})
	require.NoError(t, err)
	packed, err := g.Pack()
	require.NoError(t, err)
	// Numbered from the root: the first server's image, then the volume.
	assert.Equal(t, `[{"0x0": ["OS::Glance::Image", "i", "i", null], "0x1": ["OS::Cinder::Volume", "v", "v", null], `+
		`"0x2": ["OS::Nova::Server", "a", "a", null], "0x3": ["OS::Nova::Server", "b", "b", null], `+
		`"0x4": ["OS::Keystone::Project", "p", "p", null]}, `+
		`[["0x2", ["0x0", "0x1"]], ["0x3", ["0x1"]], ["0x4", ["0x2", "0x3", "0x1"]]]]`, packed)
	require.Len(t, hook.AllEntries(), 1, "one summary line for the skipped database listing")
	assert.Equal(t, 1, hook.LastEntry().Data["times"])
}

func TestShowTypeAndKeyErrors(t *testing.T) {
	ctx, _ := logCtx()
	reg := world()
	info, err := reg.ShowType(karbor.ServerResourceType)
	require.NoError(t, err)
	assert.Equal(t, protectables.TypeInfo{Name: karbor.ServerResourceType,
		DependentTypes: []string{karbor.ImageResourceType, karbor.VolumeResourceType}}, info)

	_, err = reg.ShowInstance(ctx, &karbor.RequestContext{}, "nope", "x", nil)
	var be *karbor.BuiltinError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "KeyError", be.PythonClass())
}

func TestDuplicateTypeLaterWins(t *testing.T) {
	l, hook := test.NewNullLogger()
	first := &fake{typ: "T", parents: []string{"P"}}
	second := &fake{typ: "T", parents: []string{"Q"}}
	reg := protectables.NewRegistry(logrus.NewEntry(l), first, &fake{typ: "U"}, second)
	assert.Equal(t, []string{"T", "U"}, reg.Types())
	info, err := reg.ShowType("Q")
	require.Error(t, err)
	assert.Empty(t, info.Name)
	reg2 := protectables.NewRegistry(logrus.NewEntry(l), &fake{typ: "Q"}, first, second)
	info, err = reg2.ShowType("Q")
	require.NoError(t, err)
	assert.Equal(t, []string{"T"}, info.DependentTypes)
	assert.Equal(t, logrus.WarnLevel, hook.LastEntry().Level)
}
