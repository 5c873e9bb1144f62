package unreachable_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	"github.com/gokarbor/karbor-protection/providers/protectables/unreachable"
)

type failure struct {
	Class   string         `json:"class"`
	Module  string         `json:"module"`
	Message string         `json:"message"`
	Args    []any          `json:"args"`
	Kwargs  map[string]any `json:"kwargs"`
}

type exchange struct {
	Method  string          `json:"method"`
	Context map[string]any  `json:"context"`
	Args    map[string]any  `json:"args"`
	Result  json.RawMessage `json:"result"`
	Failure *failure        `json:"failure"`
}

// The program registers these plugins through providers/protectables/openstack;
// here they are registered directly, as that package does without [trustee].
func init() {
	for name, p := range unreachable.Plugins() {
		protectables.Register(name, func(context.Context, *config.Config) (protectables.Plugin, error) { return p, nil })
	}
}

func loadSession(t *testing.T) []exchange {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "protectables-session.json"))
	require.NoError(t, err)
	var s struct {
		Exchanges []exchange `json:"exchanges"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	require.NotEmpty(t, s.Exchanges)
	return s.Exchanges
}

func quietCtx() context.Context {
	l, _ := test.NewNullLogger()
	return logctx.With(context.Background(), logrus.NewEntry(l))
}

// call answers one recorded request with the registry, as the manager will.
func call(ctx context.Context, t *testing.T, reg *protectables.Registry, e exchange) (any, error) {
	t.Helper()
	rc, err := karbor.FromMap(e.Context)
	require.NoError(t, err)
	str := func(k string) string { s, _ := e.Args[k].(string); return s }
	params, _ := e.Args["parameters"].(map[string]any)
	switch e.Method {
	case "list_protectable_types":
		return reg.Types(), nil
	case "show_protectable_type":
		return reg.ShowType(str("protectable_type"))
	case "list_protectable_instances":
		res, err := reg.ListInstances(ctx, &rc, str("protectable_type"), params)
		if err != nil {
			return nil, err
		}
		out := make([]graph.Instance, len(res))
		for i, r := range res {
			out[i] = graph.Instance(r)
		}
		return out, nil
	case "show_protectable_instance":
		return reg.ShowInstance(ctx, &rc, str("protectable_type"), str("protectable_id"), params)
	case "list_protectable_dependents":
		res, err := reg.Dependents(ctx, &rc, graph.Resource{Type: str("protectable_type"), ID: str("protectable_id"), Name: str("protectable_name")})
		if res == nil && err == nil {
			res = []graph.Resource{}
		}
		return res, err
	}
	t.Fatalf("unexpected method %s", e.Method)
	return nil, nil
}

func TestRecordedSession(t *testing.T) {
	ctx := quietCtx()
	reg := protectables.Load(ctx, nil)
	for _, e := range loadSession(t) {
		t.Run(e.Method, func(t *testing.T) {
			got, err := call(ctx, t, reg, e)
			if e.Failure != nil {
				var ke *karbor.Error
				require.ErrorAs(t, err, &ke)
				assert.Equal(t, e.Failure.Class, ke.PythonClass())
				assert.Equal(t, e.Failure.Module, ke.PythonModule())
				assert.Equal(t, e.Failure.Message, ke.Error())
				kw, _ := json.Marshal(ke.PythonKwargs())
				want, _ := json.Marshal(e.Failure.Kwargs)
				assert.JSONEq(t, string(want), string(kw))
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			assert.JSONEq(t, string(e.Result), string(b))
		})
	}
}

// TestShowProtectableType checks every type's dependent_types against
// karbor's (the table in docs/karbor-behaviour.md#protectable-calls).
func TestShowProtectableType(t *testing.T) {
	reg := protectables.Load(quietCtx(), nil)
	others := []string{karbor.DatabaseResourceType, karbor.ImageResourceType, karbor.NetworkResourceType,
		karbor.PodResourceType, karbor.ServerResourceType, karbor.ShareResourceType, karbor.VolumeResourceType}
	want := map[string][]string{
		karbor.ProjectResourceType: others,
		karbor.ServerResourceType:  {karbor.ImageResourceType, karbor.VolumeResourceType},
		karbor.PodResourceType:     {karbor.VolumeResourceType},
	}
	for _, typ := range karbor.ProtectableLoadOrder() {
		t.Run(typ, func(t *testing.T) {
			info, err := reg.ShowType(typ)
			require.NoError(t, err)
			assert.Equal(t, typ, info.Name)
			deps := want[typ]
			if deps == nil {
				deps = []string{}
			}
			assert.Equal(t, deps, info.DependentTypes)
		})
	}
	_, err := reg.ShowType("OS::Foo::Bar")
	var ke *karbor.Error
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "ProtectableType OS::Foo::Bar could not be found.", ke.Error())
}

func TestAnswersWithoutOpenStack(t *testing.T) {
	ctx := quietCtx()
	reg := protectables.Load(ctx, nil)
	rc := &karbor.RequestContext{ProjectID: "prj", ProjectName: "demo"}
	r := unreachable.Reason
	require.Equal(t, "Authorization for trustee is failed ", r)

	type want struct {
		class, message string
		null           bool
	}
	notFound := func(id, typ, reason string) want {
		return want{class: "ProtectableResourceNotFound", message: "The resource " + id + " of type " + typ + " could not be found: " + reason}
	}
	listFailed := func(typ string) want {
		return want{class: "ListProtectableResourceFailed", message: "List protectable resources of type " + typ + " failed: " + r}
	}

	t.Run("list", func(t *testing.T) {
		for _, typ := range karbor.ProtectableLoadOrder() {
			res, err := reg.ListInstances(ctx, rc, typ, nil)
			if typ == karbor.ProjectResourceType {
				require.NoError(t, err)
				assert.Equal(t, []graph.Resource{{Type: typ, ID: "prj", Name: "demo"}}, res)
				continue
			}
			checkErr(t, err, listFailed(typ).class, listFailed(typ).message)
		}
		_, err := reg.ListInstances(ctx, rc, "OS::Foo::Bar", nil)
		checkBuiltin(t, err, "KeyError", "'OS::Foo::Bar'")
	})

	t.Run("show", func(t *testing.T) {
		for _, tc := range []struct {
			typ, id string
			params  protectables.Parameters
			want    want
		}{
			{karbor.ServerResourceType, "s", nil, notFound("s", karbor.ServerResourceType, r)},
			{karbor.VolumeResourceType, "v", nil, notFound("v", karbor.VolumeResourceType, r)},
			{karbor.ImageResourceType, "i", nil, notFound("i", karbor.ImageResourceType, r)},
			{karbor.ShareResourceType, "s", nil, notFound("s", karbor.ShareResourceType, r)},
			{karbor.DatabaseResourceType, "d", nil, notFound("d", karbor.DatabaseResourceType, r)},
			{karbor.NetworkResourceType, "other", nil, want{null: true}},
			{karbor.NetworkResourceType, "prj", nil, listFailed(karbor.NetworkResourceType)},
			{karbor.PodResourceType, "p", nil, notFound("p", karbor.PodResourceType, "No active exception to reraise")},
			{karbor.PodResourceType, "p", protectables.Parameters{"x": "y"}, notFound("p", karbor.PodResourceType, "argument of type 'NoneType' is not iterable")},
			{karbor.PodResourceType, "p", protectables.Parameters{"name": 3.0}, notFound("p", karbor.PodResourceType, "argument of type 'int' is not iterable")},
			{karbor.PodResourceType, "p", protectables.Parameters{"name": "a:b:c"}, notFound("p", karbor.PodResourceType, "too many values to unpack (expected 2)")},
			{karbor.PodResourceType, "p", protectables.Parameters{"name": "ns:pod"}, notFound("p", karbor.PodResourceType, r)},
			{karbor.PodResourceType, "p", protectables.Parameters{"name": "pod"}, notFound("p", karbor.PodResourceType, r)},
		} {
			res, err := reg.ShowInstance(ctx, rc, tc.typ, tc.id, tc.params)
			if tc.want.null {
				assert.NoError(t, err)
				assert.Nil(t, res)
				continue
			}
			checkErr(t, err, tc.want.class, tc.want.message)
		}
		res, err := reg.ShowInstance(ctx, rc, karbor.ProjectResourceType, "any", nil)
		require.NoError(t, err)
		assert.Equal(t, &graph.Resource{Type: karbor.ProjectResourceType, ID: "any", Name: "demo"}, res)
	})

	t.Run("dependents", func(t *testing.T) {
		for _, typ := range karbor.ProtectableLoadOrder() {
			parent := graph.Resource{Type: typ, ID: "x", Name: "ns:name"}
			res, err := reg.Dependents(ctx, rc, parent)
			if typ == karbor.PodResourceType {
				checkErr(t, err, "ProtectableResourceNotFound", "The resource x of type OS::Kubernetes::Pod could not be found: "+r)
				continue
			}
			require.NoError(t, err, typ)
			assert.Empty(t, res, typ)
		}
		_, err := reg.Dependents(ctx, rc, graph.Resource{Type: karbor.PodResourceType, ID: "x", Name: "nocolon"})
		checkErr(t, err, "ProtectableResourceNotFound", "The resource x of type OS::Kubernetes::Pod could not be found: not enough values to unpack (expected 2, got 1)")
	})
}

func TestSubstringParents(t *testing.T) {
	// Python's "t in 'OS::Keystone::Project'" for the network and pod
	// plugins: a fragment of the project type counts as their parent.
	net := unreachable.Plugin{Type: karbor.NetworkResourceType, Parents: []string{karbor.ProjectResourceType}, ParentIsString: true}
	vol := unreachable.Plugin{Type: karbor.VolumeResourceType, Parents: []string{karbor.ProjectResourceType}}
	assert.True(t, net.IsParentType("Project"))
	assert.True(t, net.IsParentType(karbor.ProjectResourceType))
	assert.False(t, net.IsParentType(karbor.ServerResourceType))
	assert.False(t, vol.IsParentType("Project"))
	assert.True(t, vol.IsParentType(karbor.ProjectResourceType))
}

func checkErr(t *testing.T, err error, class, message string) {
	t.Helper()
	var ke *karbor.Error
	if assert.ErrorAs(t, err, &ke) {
		assert.Equal(t, class, ke.PythonClass())
		assert.Equal(t, message, ke.Error())
	}
}

func checkBuiltin(t *testing.T, err error, class, message string) {
	t.Helper()
	var be *karbor.BuiltinError
	if assert.ErrorAs(t, err, &be) {
		assert.Equal(t, class, be.PythonClass())
		assert.Equal(t, message, be.Error())
	}
}
