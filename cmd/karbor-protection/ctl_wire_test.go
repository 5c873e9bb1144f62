package main_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// TestCtlRequestsAsKarborAPI: every call karbor-protection-ctl makes has
// the shape of the call karbor's own API client made in the recorded
// session: the same context keys with the same values (ids and time
// aside), the same argument names, and versioned objects with the same
// envelope and fields. A recording server on the vhost answers each
// method with the recorded reply, so the tool runs to completion.
func TestCtlRequestsAsKarborAPI(t *testing.T) {
	url := rpctest.Vhost(t)
	session := recordedSession(t)
	recorded := map[string]exchange{}
	for _, x := range session {
		if _, seen := recorded[x.Method]; !seen && x.Failure == nil {
			recorded[x.Method] = x
		}
	}
	for _, x := range session { // methods that only failed in the session
		if _, seen := recorded[x.Method]; !seen {
			recorded[x.Method] = x
		}
	}
	var mu sync.Mutex
	got := map[string]*rpc.Call{}
	ep := rpc.NewEndpoint("ProtectionManager", "1.0")
	for method, x := range recorded {
		result := x.Result
		if x.Failure != nil || len(result) == 0 {
			result = json.RawMessage("null")
		}
		ep.Handle(method, func(_ context.Context, call *rpc.Call) (any, error) {
			mu.Lock()
			defer mu.Unlock()
			got[call.Method] = call
			return result, nil
		})
	}
	quiet := logrus.New()
	quiet.SetLevel(logrus.WarnLevel)
	srv, err := rpc.NewServer(rpc.ServerConfig{TransportURL: url, Topic: topic, Server: "recorder", Logger: logrus.NewEntry(quiet)}, ep)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-srv.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the recording server does not consume")
	}

	s := &service{t: t, url: url, dir: t.TempDir()}
	s.writeConfig()
	plan := ctlPlanFile(t, t.TempDir(), recordedPlanID, 2)
	const cp = "ac462082-3212-4139-906e-d0dd1ddc19ee"
	// The recorded caller: a member of projectA in project "demo".
	env := ctlEnv("OS_PROJECT_NAME=demo", "OS_ROLES=member", "OS_AUTH_TOKEN=fake-token")
	for _, args := range [][]string{
		{"provider", "list"}, {"provider", "show", noopID},
		{"protectable", "list"}, {"protectable", "show", "OS::Nova::Server"},
		{"protectable", "instance", "list", "OS::Cinder::Volume"},
		{"protectable", "instance", "show", "OS::Cinder::Volume", "dc810b90-7a09-44e0-8016-07c4c26e18ce"},
		{"checkpoint", "list", noopID}, {"checkpoint", "show", noopID, cp},
		{"protect", plan}, {"restore", noopID, cp}, {"verify", noopID, cp},
		{"checkpoint", "reset-state", noopID, cp}, {"checkpoint", "delete", noopID, cp}, {"copy", plan},
	} {
		r := s.ctl(t, env, args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, method := range []string{"list_providers", "show_provider", "list_protectable_types", "show_protectable_type",
		"list_protectable_instances", "show_protectable_instance", "list_checkpoints", "show_checkpoint", "protect",
		"restore", "verification", "reset_state", "delete", "copy"} {
		t.Run(method, func(t *testing.T) {
			call := got[method]
			require.NotNil(t, call, "the tool never called %s", method)
			want := recorded[method]
			ctxGot := map[string]any{}
			for _, m := range call.Context {
				var val any
				require.NoError(t, json.Unmarshal(m.Value, &val))
				ctxGot[m.Key] = val
			}
			ctxWant := maps.Clone(want.Context)
			for _, k := range []string{"request_id", "timestamp"} {
				assert.Regexp(t, map[string]string{"request_id": `^req-[0-9a-f-]{36}$`, "timestamp": `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$`}[k], ctxGot[k])
				delete(ctxGot, k)
				delete(ctxWant, k)
			}
			assert.Equal(t, ctxWant, ctxGot, "the request context")

			var args map[string]any
			require.NoError(t, json.Unmarshal(call.Args, &args))
			assert.Equal(t, slices.Sorted(maps.Keys(want.Args)), slices.Sorted(maps.Keys(args)), "argument names")
			for name, v := range want.Args {
				sameShape(t, name, v, args[name])
			}
		})
	}
}

// sameShape checks that got has want's JSON shape where it matters: a
// versioned object has the same envelope and fields, an object the same
// keys (recursively), a scalar or list any value of a JSON type the
// service accepts there (null, the value, or a list the API may send).
func sameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	w, ok := want.(map[string]any)
	if !ok {
		return
	}
	g, ok := got.(map[string]any)
	if !assert.True(t, ok, "%s: want an object, got %v", path, got) {
		return
	}
	if _, isObject := w["karbor_object.data"]; isObject {
		for _, k := range []string{"karbor_object.name", "karbor_object.namespace", "karbor_object.version"} {
			assert.Equal(t, w[k], g[k], "%s: %s", path, k)
		}
		wd, gd := w["karbor_object.data"].(map[string]any), g["karbor_object.data"].(map[string]any)
		assert.Equal(t, slices.Sorted(maps.Keys(wd)), slices.Sorted(maps.Keys(gd)), "%s: fields", path)
		return
	}
	assert.Equal(t, slices.Sorted(maps.Keys(w)), slices.Sorted(maps.Keys(g)), "%s: keys", path)
	for k, v := range w {
		sameShape(t, path+"."+k, v, g[k])
	}
}
