package karbor

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rawDict(t *testing.T, text string) map[string]json.RawMessage {
	t.Helper()
	var d map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(text), &d))
	return d
}

func TestFromDict(t *testing.T) {
	base := `"user_id": "u", "project_id": "p"`
	tests := []struct {
		name  string
		dict  string
		check func(t *testing.T, c RequestContext)
	}{
		{"minimal", `{` + base + `}`, func(t *testing.T, c RequestContext) {
			assert.Equal(t, "u", c.UserID)
			assert.Equal(t, "p", c.ProjectID)
			assert.Equal(t, "no", c.ReadDeleted)
			assert.Equal(t, []string{}, c.Roles)
			assert.False(t, c.IsAdmin)
			assert.Regexp(t, regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), c.RequestID)
			assert.WithinDuration(t, time.Now(), c.Timestamp, time.Minute)
			assert.Nil(t, c.AuthTokenInfo)
		}},
		{"nulls read as absent", `{"user_id": null, "project_id": null, "roles": null, "is_admin": null, "request_id": null,
			"timestamp": null, "service_catalog": null, "auth_token_info": null, "project_name": null}`, func(t *testing.T, c RequestContext) {
			assert.Empty(t, c.UserID)
			assert.Empty(t, c.ProjectID)
			assert.Contains(t, c.RequestID, "req-")
			assert.Empty(t, c.ServiceCatalog)
		}},
		{"unknown keys ignored", `{` + base + `, "user": "x", "tenant": 5, "system_scope": {"a": 1}, "new_key": [1]}`, func(t *testing.T, c RequestContext) {
			assert.Equal(t, "u", c.UserID)
		}},
		{"admin by role when not said", `{` + base + `, "roles": ["member", "Admin"]}`, func(t *testing.T, c RequestContext) {
			assert.True(t, c.IsAdmin)
			assert.Equal(t, []string{"member", "Admin"}, c.Roles)
		}},
		{"admin flag adds the role", `{` + base + `, "is_admin": true, "roles": ["member"]}`, func(t *testing.T, c RequestContext) {
			assert.True(t, c.IsAdmin)
			assert.Equal(t, []string{"member", "admin"}, c.Roles)
		}},
		{"admin flag false wins over the role", `{` + base + `, "is_admin": false, "roles": ["admin"]}`, func(t *testing.T, c RequestContext) {
			assert.False(t, c.IsAdmin)
			assert.True(t, c.Admin(), "admin_or_owner still passes on role:admin")
			assert.True(t, c.IsAdminOrOwner("another project"))
		}},
		{"admin role in any case", `{` + base + `, "is_admin": false, "roles": ["member", "ADMIN"]}`, func(t *testing.T, c RequestContext) {
			assert.True(t, c.Admin())
		}},
		{"member is no admin", `{` + base + `, "is_admin": false, "roles": ["member", "administrator"]}`, func(t *testing.T, c RequestContext) {
			assert.False(t, c.Admin())
			assert.False(t, c.IsAdminOrOwner("another project"))
			assert.True(t, c.IsAdminOrOwner(c.ProjectID))
		}},
		{"timestamp with offset", `{` + base + `, "timestamp": "2024-01-02T03:04:05+02:00"}`, func(t *testing.T, c RequestContext) {
			assert.True(t, c.Timestamp.Equal(time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)))
		}},
		{"empty timestamp is now", `{` + base + `, "timestamp": ""}`, func(t *testing.T, c RequestContext) {
			assert.WithinDuration(t, time.Now(), c.Timestamp, time.Minute)
		}},
		{"service catalog filtered", `{` + base + `, "service_catalog": [{"type": "compute", "name": "nova"},
			{"type": "metering"}, {"name": "no type"}, {"type": "volumev3", "endpoints": [{"publicURL": "http://c"}]}]}`,
			func(t *testing.T, c RequestContext) {
				require.Len(t, c.ServiceCatalog, 2)
				assert.JSONEq(t, `{"type": "compute", "name": "nova"}`, string(c.ServiceCatalog[0]))
				assert.JSONEq(t, `{"type": "volumev3", "endpoints": [{"publicURL": "http://c"}]}`, string(c.ServiceCatalog[1]))
			}},
		{"token info kept raw", `{` + base + `, "auth_token": "t", "auth_token_info": {"token": {"roles": []}}}`, func(t *testing.T, c RequestContext) {
			assert.Equal(t, "t", c.AuthToken)
			assert.JSONEq(t, `{"token": {"roles": []}}`, string(c.AuthTokenInfo))
		}},
		{"read_deleted", `{` + base + `, "read_deleted": "only"}`, func(t *testing.T, c RequestContext) {
			assert.Equal(t, "only", c.ReadDeleted)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromDict(rawDict(t, tt.dict))
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestFromDictErrors(t *testing.T) {
	base := `"user_id": "u", "project_id": "p"`
	tests := []struct {
		name    string
		dict    string
		builtin string // Python class, "" for a *ContextError
		message string
	}{
		{"no project_id", `{"user_id": "u"}`, "TypeError", "RequestContext.__init__() missing 1 required positional argument: 'project_id'"},
		{"no ids", `{}`, "TypeError", "RequestContext.__init__() missing 2 required positional arguments: 'user_id' and 'project_id'"},
		{"bad read_deleted", `{` + base + `, "read_deleted": "maybe"}`, "ValueError", "read_deleted can only be one of 'no', 'yes' or 'only', not 'maybe'"},
		{"null read_deleted", `{` + base + `, "read_deleted": null}`, "ValueError", "read_deleted can only be one of 'no', 'yes' or 'only', not None"},
		{"bad timestamp", `{` + base + `, "timestamp": "yesterday"}`, "ValueError", "Unable to parse date string 'yesterday'"},
		{"impossible timestamp", `{` + base + `, "timestamp": "2024-02-30T00:00:00"}`, "ValueError", "day is out of range for month"},
		{"project id a number", `{"user_id": "u", "project_id": 5}`, "", `"project_id" must be a string, got 5`},
		{"is_admin a string", `{` + base + `, "is_admin": "yes"}`, "", `"is_admin" must be a boolean`},
		{"roles not a list", `{` + base + `, "roles": "admin"}`, "", `"roles" must be a list of strings`},
		{"role not a string", `{` + base + `, "roles": ["a", 1]}`, "", `"roles" must be a list of strings`},
		{"catalog not a list", `{` + base + `, "service_catalog": {}}`, "", `"service_catalog" must be a list`},
		{"catalog entry not an object", `{` + base + `, "service_catalog": ["compute"]}`, "", `"service_catalog[0]" must be an object`},
		{"timestamp a number", `{` + base + `, "timestamp": 1700000000}`, "", `"timestamp" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromDict(rawDict(t, tt.dict))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
			var b *BuiltinError
			var ce *ContextError
			if tt.builtin != "" {
				require.ErrorAs(t, err, &b)
				assert.Equal(t, tt.builtin, b.PythonClass())
			} else {
				assert.ErrorAs(t, err, &ce)
			}
		})
	}
}

func TestFromMapAndToDict(t *testing.T) {
	c, err := FromMap(map[string]any{
		"user_id": "u", "project_id": "p", "is_admin": true, "roles": []string{"member"},
		"timestamp": "2024-01-02T03:04:05", "domain": "d", "request_id": "req-1",
	})
	require.NoError(t, err)
	d := c.ToDict()
	assert.Equal(t, "u p d - -", d["user_identity"])
	assert.Equal(t, "2024-01-02T03:04:05", d["timestamp"])
	assert.Equal(t, []string{"member", "admin"}, d["roles"])
	assert.Equal(t, true, d["is_admin"])
	assert.Nil(t, d["auth_token"])
	back, err := FromMap(d)
	require.NoError(t, err)
	assert.Equal(t, c.UserID, back.UserID)
	assert.Equal(t, c.Roles, back.Roles)
	assert.True(t, c.Timestamp.Equal(back.Timestamp))

	_, err = FromMap(map[string]any{"user_id": func() {}})
	assert.Error(t, err)

	assert.True(t, c.IsAdminOrOwner("other"))
	member := RequestContext{ProjectID: "p"}
	assert.True(t, member.IsAdminOrOwner("p"))
	assert.False(t, member.IsAdminOrOwner("q"))
	assert.Equal(t, "no", member.ToDict()["read_deleted"])
	assert.Equal(t, "2024-01-02T03:04:05.000001", pyIsoformat(time.Date(2024, 1, 2, 3, 4, 5, 1500, time.UTC)))
}

// keyIndex places every key karbor keeps where ContextKeys has it, and no
// other.
func TestKeyIndex(t *testing.T) {
	for i, k := range ContextKeys {
		assert.Equal(t, i, keyIndex(k), k)
	}
	assert.Len(t, ContextKeys, len(ContextValues{}.raw))
	for _, k := range []string{"", "user", "project", "is_admin_project", "USER_ID"} {
		assert.Equal(t, -1, keyIndex(k), k)
	}
}

// Members gathered one by one: of a key given twice the last value
// counts, as in the dict Python builds; keys karbor drops are ignored.
func TestFromValues(t *testing.T) {
	values := func(kv ...string) *ContextValues {
		var v ContextValues
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], json.RawMessage(kv[i+1]))
		}
		return &v
	}
	c, err := FromValues(values("user_id", `"u1"`, "project_id", `"p"`, "user", `"ignored"`, "user_id", `"u2"`, "roles", `["a"]`, "roles", `null`))
	require.NoError(t, err)
	assert.Equal(t, "u2", c.UserID)
	assert.Equal(t, "p", c.ProjectID)
	assert.Equal(t, []string{}, c.Roles, "the later null wins")

	_, err = FromValues(values("user", `"u"`, "project_id", `"p"`))
	assert.EqualError(t, err, "RequestContext.__init__() missing 1 required positional argument: 'user_id'")
}
