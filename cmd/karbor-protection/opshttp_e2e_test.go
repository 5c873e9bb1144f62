package main_test

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// monitored is a service configuration with the operator listener on a
// free port; kombu_reconnect_delay keeps the service off the broker for a
// few seconds after its connection is closed, long enough to be seen.
func monitored(sections string) serviceConfig {
	return serviceConfig{sections: "[monitoring]\nlisten = 127.0.0.1:0\n\n[oslo_messaging_rabbit]\nkombu_reconnect_delay = 3\n\n" + sections}
}

var listenerLine = regexp.MustCompile(`Operator HTTP listener on (http://[0-9.:]+):`)

// operatorURL is the base URL the service says it listens on.
func (s *service) operatorURL() string {
	s.t.Helper()
	s.waitLog("Operator HTTP listener on", 10*time.Second)
	m := listenerLine.FindStringSubmatch(s.out.String())
	require.NotNil(s.t, m, "the listener's address in the log")
	return m[1]
}

// getJSON GETs url and decodes its JSON body into v; it returns the status.
func getJSON(t testing.TB, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s", body)
	require.NoError(t, json.Unmarshal(body, v), "%s", body)
	return resp.StatusCode
}

type readiness struct {
	Status string `json:"status"`
	Checks []struct {
		Name  string `json:"name"`
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"checks"`
}

// failing names the checks that fail.
func (r readiness) failing() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Error)
		}
	}
	return out
}

// waitReady polls /readyz until it answers ready (200) or not (503) as
// wanted, and returns the last answer.
func waitReady(t *testing.T, base string, ready bool, what string) readiness {
	t.Helper()
	var r readiness
	waitFor(t, 60*time.Second, what, func() bool {
		r = readiness{}
		code := getJSON(t, base+"/readyz", &r)
		if ready {
			return code == http.StatusOK && r.Status == "ready"
		}
		return code == http.StatusServiceUnavailable && r.Status == "not ready"
	})
	return r
}

// TestReadiness: /healthz answers; /readyz is ready once the service
// consumes, names the broker while the broker connection is gone and the
// bank while its folder is, and is ready again once each is back.
func TestReadiness(t *testing.T) {
	url := rpctest.Vhost(t)
	s := newService(t, url, monitored(""))
	base := s.operatorURL()

	var health map[string]string
	assert.Equal(t, http.StatusOK, getJSON(t, base+"/healthz", &health))
	assert.Equal(t, map[string]string{"status": "alive"}, health)

	r := waitReady(t, base, true, "ready at start")
	names := []string{}
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"broker", "bank of provider No-Op Provider (" + noopID + ")"}, names, "no database configured: no database check")

	t.Run("broker connection closed", func(t *testing.T) {
		// The management API learns of connections a few seconds late.
		rpctest.WaitConnections(t, url, 1, 30*time.Second)
		require.Positive(t, rpctest.CloseConnections(t, url))
		r := waitReady(t, base, false, "not ready without the broker")
		require.Len(t, r.failing(), 1)
		assert.Contains(t, r.failing()[0], "broker: rpc: server is not consuming")
		waitReady(t, base, true, "ready once reconnected")
	})

	t.Run("bank folder vanished", func(t *testing.T) {
		away := s.bankPath() + ".away"
		require.NoError(t, os.Rename(s.bankPath(), away))
		r := waitReady(t, base, false, "not ready without the bank folder")
		require.Len(t, r.failing(), 1)
		assert.Contains(t, r.failing()[0], "bank of provider No-Op Provider")
		assert.Contains(t, r.failing()[0], "no such file or directory")
		require.NoError(t, os.Rename(away, s.bankPath()))
		waitReady(t, base, true, "ready once the folder is back")
	})
}

type operationView struct {
	Type           string `json:"type"`
	CheckpointID   string `json:"checkpoint_id"`
	ProjectID      string `json:"project_id"`
	ProviderID     string `json:"provider_id"`
	ResourcesDone  int    `json:"resources_done"`
	ResourcesTotal int    `json:"resources_total"`
	Phase          string `json:"phase"`
	Status         string `json:"status"`
	StartedAt      string `json:"started_at"`
	EndedAt        string `json:"ended_at"`
}

type operations struct {
	Running  []operationView `json:"running"`
	Finished []operationView `json:"finished"`
}

// TestOperationsProgress: /operations shows a 10,000-resource protect
// running, its resources done moving up, then finished and available with
// every resource done. The service keeps karbor's tables in a new SQLite
// file, which it fills with karbor's schema: the heartbeat and the
// operation log are there.
func TestOperationsProgress(t *testing.T) {
	const resources = 10000
	url := rpctest.Vhost(t)
	s := newService(t, url, monitored("[database]\nconnection = sqlite:///karbor.sqlite\n"))
	base := s.operatorURL()
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)

	id := protect(t, c, ctx, "632d8f7d-e2c3-4f31-82ea-900d8afb9880", projectA, resources)
	var seen []int // resources_done of each running observation
	var final operationView
	waitFor(t, 5*time.Minute, "the protect finished in /operations", func() bool {
		var ops operations
		require.Equal(t, http.StatusOK, getJSON(t, base+"/operations?checkpoint_id="+id, &ops))
		for _, o := range ops.Running {
			assert.Equal(t, resources, o.ResourcesTotal)
			assert.Equal(t, "protect", o.Type)
			assert.Equal(t, projectA, o.ProjectID)
			assert.NotEmpty(t, o.Phase)
			seen = append(seen, o.ResourcesDone)
		}
		if len(ops.Finished) == 1 {
			final = ops.Finished[0]
			return true
		}
		return false
	})
	assert.Equal(t, "available", final.Status)
	assert.Equal(t, resources, final.ResourcesDone)
	assert.Equal(t, resources, final.ResourcesTotal)
	assert.Equal(t, "ended", final.Phase)
	assert.NotEmpty(t, final.EndedAt)
	waitStatus(t, c, ctx, id, "available")

	require.NotEmpty(t, seen, "the protect was seen running")
	t.Logf("%d observations of the running protect, resources done: %s", len(seen), compact(seen))
	moved := false
	for i := 1; i < len(seen); i++ {
		assert.GreaterOrEqual(t, seen[i], seen[i-1], "resources done never go back")
		moved = moved || (seen[i] > seen[i-1] && seen[i] < resources)
	}
	assert.True(t, moved || (len(seen) > 0 && seen[0] > 0 && seen[0] < resources),
		"resources done moved while the protect ran: %v", compact(seen))

	t.Run("karbor's tables in the new SQLite file", func(t *testing.T) {
		db, err := sql.Open("sqlite", filepath.Join(s.dir, "karbor.sqlite"))
		require.NoError(t, err)
		defer db.Close()
		var services int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM services WHERE host = ? AND \"binary\" = 'karbor-protection'", serviceHost).Scan(&services))
		assert.Equal(t, 1, services, "the heartbeat row")
		waitFor(t, 30*time.Second, "the protect's operation log ended", func() bool {
			var status string
			err := db.QueryRow("SELECT status FROM operation_logs WHERE checkpoint_id = ? AND ended_at IS NOT NULL", id).Scan(&status)
			return err == nil && status == "available"
		})
	})
}

// compact shortens a long list of observations for a failure message.
func compact(v []int) string {
	b, _ := json.Marshal(v)
	if s := string(b); len(s) > 200 {
		return s[:100] + " … " + s[len(s)-100:]
	}
	return strings.TrimSpace(string(b))
}
