package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/manager"
	"github.com/gokarbor/karbor-protection/rpc"
)

// globals are the options every command takes. Who the caller is has no
// default: the service's access checks depend on it, and an operator's
// tool that silently acted as an admin would hide what karbor-api's users
// see. The operator says it with --os-* options or the openstack client's
// OS_* variables.
type globals struct {
	configFiles  listFlag
	transportURL string
	userID       string
	projectID    string
	projectName  string
	roles        string
	authToken    string
	format       string
	columns      listFlag
	timeout      time.Duration
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// register adds the global options to fs; defaults come from the OS_*
// variables the openstack client reads.
func (g *globals) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.Var(&g.configFiles, "config-file", "karbor.conf to read transport_url, control_exchange, [oslo_messaging_rabbit] and provider_config_dir from; may be repeated (default: oslo.config's search for karbor.conf; OS_DEFAULT__TRANSPORT_URL and the like override it)")
	fs.StringVar(&g.transportURL, "transport-url", "", "oslo.messaging transport URL of the service's broker (overrides the configuration)")
	fs.StringVar(&g.userID, "os-user-id", getenv("OS_USER_ID"), "User id the request is made as (env OS_USER_ID; required)")
	fs.StringVar(&g.projectID, "os-project-id", getenv("OS_PROJECT_ID"), "Project id the request is made in (env OS_PROJECT_ID; required)")
	fs.StringVar(&g.projectName, "os-project-name", getenv("OS_PROJECT_NAME"), "Project name (env OS_PROJECT_NAME)")
	fs.StringVar(&g.roles, "os-roles", getenv("OS_ROLES"), "Comma-separated roles of the user (env OS_ROLES); with admin the request is an admin's, without it a member's")
	fs.StringVar(&g.authToken, "os-auth-token", getenv("OS_AUTH_TOKEN"), "Keystone token passed to the service's plugins (env OS_AUTH_TOKEN)")
	fs.StringVar(&g.format, "f", "table", "Output format: table, json, yaml or value")
	fs.StringVar(&g.format, "format", "table", "Output format: table, json, yaml or value")
	fs.Var(&g.columns, "c", "Show only this column (or field); may be repeated")
	fs.Var(&g.columns, "column", "Show only this column (or field); may be repeated")
	fs.DurationVar(&g.timeout, "timeout", 0, "How long a call waits for its reply (default: rpc_response_timeout, 60s)")
}

func (g *globals) check() error {
	switch g.format {
	case "table", "json", "yaml", "value":
	default:
		return usagef("unknown output format %q (table, json, yaml or value)", g.format)
	}
	if g.timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	return nil
}

// requestContext is the context karbor-api would send for this caller:
// karbor's RequestContext.to_dict(), with a new request id.
func (g *globals) requestContext() (karbor.RequestContext, error) {
	var missing []string
	if g.userID == "" {
		missing = append(missing, "--os-user-id (OS_USER_ID)")
	}
	if g.projectID == "" {
		missing = append(missing, "--os-project-id (OS_PROJECT_ID)")
	}
	if len(missing) > 0 {
		return karbor.RequestContext{}, usagef("say who makes the request: %s", strings.Join(missing, " and "))
	}
	roles := []string{}
	for _, r := range strings.Split(g.roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	isAdmin := false
	for _, r := range roles {
		if strings.EqualFold(r, "admin") {
			isAdmin = true
		}
	}
	return karbor.RequestContext{
		UserID: g.userID, ProjectID: g.projectID, ProjectName: g.projectName,
		Roles: roles, IsAdmin: isAdmin, AuthToken: g.authToken,
		RequestID: "req-" + uuid.NewString(), Timestamp: time.Now().UTC(), ReadDeleted: "no",
	}, nil
}

// session is one run of a command: the configuration, the caller's
// context and, for the commands that call the service, the RPC client.
type session struct {
	g      *globals
	env    Env
	k      *config.Karbor
	conf   *config.Config
	rc     karbor.RequestContext
	client *rpc.Client
	target rpc.Target
	db     *db.Client
}

// database opens karbor's database when [database] connection is set
// (nil otherwise).
func (s *session) database() (*db.Client, error) {
	if s.db != nil || !s.k.Database.ConnectionSet {
		return s.db, nil
	}
	opts := db.DefaultOptions()
	opts.ConnectionParameters = s.k.Database.ConnectionParameters
	quiet := logrus.New()
	quiet.SetOutput(discard{})
	c, err := db.OpenClient(s.k.Database.Connection, opts, logrus.NewEntry(quiet))
	if err != nil {
		return nil, usageError{fmt.Errorf("[database] connection: %w", err)}
	}
	s.db = c
	return c, nil
}

// loadConfig reads karbor.conf (the files given, else oslo.config's
// search) with the OS_<GROUP>__<OPTION> overrides.
func (s *session) loadConfig() error {
	if s.k != nil {
		return nil
	}
	var sources []config.Source
	for _, f := range s.g.configFiles {
		sources = append(sources, config.Source{Path: f})
	}
	var overrides []config.Override
	if s.g.transportURL != "" {
		overrides = append(overrides, config.Override{Group: config.DefaultGroup, Name: "transport_url", Value: s.g.transportURL})
	}
	k, conf, err := config.LoadKarbor(config.LoadOptions{Sources: sources, Environ: s.env.Environ, Overrides: overrides})
	if err != nil {
		return usageError{err}
	}
	s.k, s.conf = k, conf
	return nil
}

// prepare makes the caller's context and dials the broker.
func (s *session) prepare(ctx context.Context) error {
	rc, err := s.g.requestContext()
	if err != nil {
		return err
	}
	s.rc = rc
	if err := s.loadConfig(); err != nil {
		return err
	}
	if s.k.Messaging.TransportURL == "" {
		return usagef("no transport_url: give --transport-url, OS_DEFAULT__TRANSPORT_URL or a --config-file that sets it")
	}
	if _, err := rpc.ParseTransportURL(s.k.Messaging.TransportURL); err != nil {
		return usageError{err}
	}
	opts := rpc.DefaultRabbitOptions()
	for _, kv := range s.k.Messaging.Rabbit {
		if err := opts.Set(kv.Key, kv.Value); err != nil && !errors.Is(err, rpc.ErrUnknownOption) {
			return usagef("[oslo_messaging_rabbit] %s: %v", kv.Key, err)
		}
	}
	timeout := s.g.timeout
	if timeout == 0 {
		timeout = time.Duration(s.k.Messaging.RPCResponseTimeout) * time.Second
	}
	// The client's own reconnection lines would mix with the output; an
	// operator sees the failure in the command's error instead.
	quiet := logrus.New()
	quiet.SetOutput(discard{})
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := rpc.Dial(dctx, rpc.ClientConfig{
		TransportURL: s.k.Messaging.TransportURL, Rabbit: &opts, Exchange: s.k.Messaging.ControlExchange,
		ResponseTimeout: timeout, Logger: logrus.NewEntry(quiet),
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &unreachableError{err}
	}
	s.client = c
	s.target = rpc.Target{Topic: manager.Topic, Version: "1.0", Timeout: timeout}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (s *session) close() {
	if s.client != nil {
		s.client.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
}

// call calls method with keyword arguments and decodes the result into out
// (nil: ignored). Each call carries a new request id, as each API request
// does.
func (s *session) call(ctx context.Context, method string, args map[string]any, out any) error {
	rc := s.rc
	rc.RequestID = "req-" + uuid.NewString()
	raw, err := s.client.Call(ctx, s.target, method, args, rc.ToDict())
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := decodeJSON(raw, out); err != nil {
		return fmt.Errorf("%s: unexpected reply %.200s: %w", method, raw, err)
	}
	return nil
}

// readJSONFile reads a JSON object from a file ("-": standard input is
// not offered: a plan is a file an operator keeps).
func readJSONFile(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	var m map[string]any
	if err := decodeJSON(raw, &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return nil, usagef("%s: %v", path, err)
	}
	return m, nil
}

func decodeJSON(raw []byte, out any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
