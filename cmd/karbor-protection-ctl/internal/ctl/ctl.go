// Package ctl is karbor-protection-ctl: command line, request context,
// output formats and waiting for operations.
package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gokarbor/karbor-protection/pkg/buildinfo"
	"github.com/gokarbor/karbor-protection/rpc"
)

// Exit statuses.
const (
	ExitOK = 0
	// ExitFailed: the service refused or failed the request (a karbor
	// exception), or an operation waited for ended in a failure status.
	ExitFailed = 1
	// ExitUsage: a bad command line or input file; nothing was sent.
	ExitUsage = 2
	// ExitUnreachable: no broker, or no reply within the timeout.
	ExitUnreachable = 3
	// ExitInterrupted: stopped by SIGINT or SIGTERM (128 + SIGINT).
	ExitInterrupted = 130
)

const programName = "karbor-protection-ctl"

// version is set at build time (-ldflags "-X ...ctl.version=1.2.3").
var version string

// Env is what the program gets from its process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Environ        []string
	// IsTerminal reports whether w is a terminal: progress is then drawn
	// as a bar, else written as plain lines.
	IsTerminal func(w io.Writer) bool
}

// OSEnv is the process's environment.
func OSEnv() Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ(), IsTerminal: isTerminal}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// usageError is a bad command line: exit status 2, and a pointer to --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errHelp is returned after help was printed.
var errHelp = errors.New("help printed")

// Main runs the program and returns its exit status.
func Main(args []string, env Env) int {
	if env.IsTerminal == nil {
		env.IsTerminal = func(io.Writer) bool { return false }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	err := run(ctx, args, env)
	status := exitStatus(ctx, err)
	switch {
	case err == nil, errors.Is(err, errHelp):
	case status == ExitUsage:
		fmt.Fprintf(env.Stderr, "%s: error: %v (see --help)\n", programName, err)
	default:
		fmt.Fprintf(env.Stderr, "%s: %s\n", programName, describeError(err))
	}
	return status
}

func exitStatus(ctx context.Context, err error) int {
	var ue usageError
	var re *rpc.RemoteError
	var wf *waitFailedError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return ExitOK
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &re), errors.As(err, &wf):
		return ExitFailed
	case errors.Is(err, rpc.ErrTimeout), errors.As(err, new(*unreachableError)):
		return ExitUnreachable
	}
	return ExitFailed
}

// describeError is the one line telling the operator what failed: a karbor
// exception by its class and message, as karbor-api would report it.
func describeError(err error) string {
	var re *rpc.RemoteError
	if errors.As(err, &re) {
		return re.Class + ": " + re.Message
	}
	return err.Error()
}

// unreachableError is a broker that cannot be reached.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "cannot reach the broker: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// command is one subcommand.
type command struct {
	words    string // "checkpoint list"
	synopsis string // positional arguments, e.g. "PROVIDER_ID CHECKPOINT_ID"
	nargs    int    // how many positional arguments it takes
	summary  string
	// flags registers the command's own flags; nil: none.
	flags func(fs *flag.FlagSet, c *cmdFlags)
	// run does the work; s is ready (context, client when needed).
	run func(ctx context.Context, s *session, args []string, c *cmdFlags) error
	// offline commands need no service (flow).
	offline bool
}

// cmdFlags are the values of the commands' own flags.
type cmdFlags struct {
	wait          bool
	waitInterval  time.Duration
	operationsURL string

	marker, sortDir, planID, startDate, endDate, filterProject string
	limit                                                      int
	allProjects                                                bool

	state string

	restoreTarget, restoreUser, restorePassword string
	parameters                                  string

	extraInfo string

	operation, dot, svg, png, checkpointID, copyID string
}

func addWaitFlags(fs *flag.FlagSet, c *cmdFlags) {
	fs.BoolVar(&c.wait, "wait", false, "Wait until the operation ends, showing its progress on standard error (a bar on a terminal, plain lines otherwise)")
	fs.DurationVar(&c.waitInterval, "wait-interval", 2*time.Second, "How often --wait polls")
	fs.StringVar(&c.operationsURL, "operations-url", "", "The service's operator listener ([monitoring] listen), e.g. http://127.0.0.1:9785: "+
		"--wait follows the operation's resources in its /operations, else polls the status (default: $"+operationsEnv+")")
}

var commands = []*command{
	{words: "provider list", summary: "List the providers", run: providerList},
	{words: "provider show", synopsis: "PROVIDER_ID", nargs: 1, summary: "Show a provider and its schemas", run: providerShow},
	{words: "protectable list", summary: "List the protectable resource types", run: protectableList},
	{words: "protectable show", synopsis: "TYPE", nargs: 1, summary: "Show a protectable type and the types it depends on", run: protectableShow},
	{words: "protectable instance list", synopsis: "TYPE", nargs: 1, summary: "List the protectable instances of a type", run: instanceList},
	{words: "protectable instance show", synopsis: "TYPE INSTANCE_ID", nargs: 2, summary: "Show a protectable instance", run: instanceShow},
	{words: "checkpoint list", synopsis: "PROVIDER_ID", nargs: 1, summary: "List checkpoints, newest first, with filters and paging",
		flags: checkpointListFlags, run: checkpointList},
	{words: "checkpoint show", synopsis: "PROVIDER_ID CHECKPOINT_ID", nargs: 2, summary: "Show a checkpoint", run: checkpointShow},
	{words: "checkpoint delete", synopsis: "PROVIDER_ID CHECKPOINT_ID", nargs: 2, summary: "Delete a checkpoint",
		flags: addWaitFlags, run: checkpointDelete},
	{words: "checkpoint reset-state", synopsis: "PROVIDER_ID CHECKPOINT_ID", nargs: 2, summary: "Reset a checkpoint's status",
		flags: func(fs *flag.FlagSet, c *cmdFlags) {
			fs.StringVar(&c.state, "state", "error", "The status to set: available or error")
		}, run: checkpointResetState},
	{words: "protect", synopsis: "PLAN_FILE", nargs: 1, summary: "Protect a plan (a JSON file as the API shows a plan): create a checkpoint",
		flags: func(fs *flag.FlagSet, c *cmdFlags) {
			addWaitFlags(fs, c)
			fs.StringVar(&c.extraInfo, "extra-info", "", "A JSON object added to the checkpoint's extra_info")
		}, run: protect},
	{words: "restore", synopsis: "PROVIDER_ID CHECKPOINT_ID", nargs: 2, summary: "Restore a checkpoint (--wait needs karbor's database)",
		flags: func(fs *flag.FlagSet, c *cmdFlags) {
			addWaitFlags(fs, c)
			fs.StringVar(&c.restoreTarget, "restore-target", "", "Keystone URL of the target site (default: this site)")
			fs.StringVar(&c.restoreUser, "restore-username", "", "User name on the restore target")
			fs.StringVar(&c.restorePassword, "restore-password", "", "Password on the restore target")
			fs.StringVar(&c.parameters, "parameters", "", `Restore parameters, a JSON object: {"<type>" or "<type>#<id>": {name: value}}`)
		}, run: restore},
	{words: "verify", synopsis: "PROVIDER_ID CHECKPOINT_ID", nargs: 2, summary: "Verify a checkpoint (--wait needs karbor's database)",
		flags: func(fs *flag.FlagSet, c *cmdFlags) {
			addWaitFlags(fs, c)
			fs.StringVar(&c.parameters, "parameters", "", `Verification parameters, a JSON object: {"<type>" or "<type>#<id>": {name: value}}`)
		}, run: verify},
	{words: "copy", synopsis: "PLAN_FILE", nargs: 1, summary: "Copy every available checkpoint of a plan",
		flags: addWaitFlags, run: copyPlan},
	{words: "flow", synopsis: "PLAN_FILE", nargs: 1, summary: "Build the flow an operation would run on a plan, without running it, and write it as Graphviz DOT",
		flags: flowFlags, run: flowCommand, offline: true},
}

// findCommand matches the longest command whose words begin args.
func findCommand(args []string) (*command, []string) {
	var best *command
	bestLen := 0
	for _, c := range commands {
		words := strings.Fields(c.words)
		if len(words) > len(args) || len(words) <= bestLen {
			continue
		}
		match := true
		for i, w := range words {
			if args[i] != w {
				match = false
				break
			}
		}
		if match {
			best, bestLen = c, len(words)
		}
	}
	if best == nil {
		return nil, args
	}
	return best, args[bestLen:]
}

func run(ctx context.Context, args []string, env Env) error {
	g := &globals{}
	top := newFlagSet(programName)
	g.register(top, env.Getenv)
	showVersion := top.Bool("version", false, "Print the version and exit")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printTopHelp(env.Stdout, top)
			return errHelp
		}
		return usageError{err}
	}
	if *showVersion {
		fmt.Fprintf(env.Stdout, "%s %s\n", programName, buildinfo.Version(version))
		return nil
	}
	rest := top.Args()
	if len(rest) == 0 {
		printTopHelp(env.Stdout, top)
		return usagef("a command is required")
	}
	if rest[0] == "help" {
		c, _ := findCommand(rest[1:])
		if c == nil {
			printTopHelp(env.Stdout, top)
			return errHelp
		}
		fs, _ := commandFlagSet(c, g, env)
		printCommandHelp(env.Stdout, c, fs)
		return errHelp
	}
	c, rest := findCommand(rest)
	if c == nil {
		return usagef("unknown command %q", strings.Join(top.Args(), " "))
	}
	fs, cf := commandFlagSet(c, g, env)
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(env.Stdout, c, fs)
			return errHelp
		}
		return usageError{fmt.Errorf("%s: %w", c.words, err)}
	}
	if len(pos) != c.nargs {
		return usagef("%s takes %s", c.words, argsPhrase(c))
	}
	if err := g.check(); err != nil {
		return err
	}
	s := &session{g: g, env: env}
	defer s.close()
	if !c.offline {
		if err := s.prepare(ctx); err != nil {
			return err
		}
	}
	return c.run(ctx, s, pos, cf)
}

func argsPhrase(c *command) string {
	if c.nargs == 0 {
		return "no arguments"
	}
	return c.synopsis
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func commandFlagSet(c *command, g *globals, env Env) (*flag.FlagSet, *cmdFlags) {
	fs := newFlagSet(programName + " " + c.words)
	// Registering sets each variable to its default: keep what the global
	// options before the command already set.
	set := *g
	g.register(fs, env.Getenv)
	*g = set
	cf := &cmdFlags{}
	if c.flags != nil {
		c.flags(fs, cf)
	}
	return fs, cf
}

// parseInterleaved parses flags wherever they are among the positional
// arguments ("checkpoint show P C -f json"), as the openstack client
// accepts them; after "--" everything is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		dash := -1
		for i, a := range args {
			if a == "--" {
				dash = i
				break
			}
		}
		head := args
		if dash >= 0 {
			head = args[:dash]
		}
		if err := fs.Parse(head); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			if dash >= 0 {
				return append(pos, args[dash+1:]...), nil
			}
			return pos, nil
		}
		pos = append(pos, left[0])
		args = append(left[1:], args[len(head):]...)
	}
}

func printTopHelp(w io.Writer, top *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]\n\n", programName)
	fmt.Fprintln(w, "Calls karbor-protection over RabbitMQ as karbor-api does. Commands:")
	fmt.Fprintln(w)
	list := append([]*command(nil), commands...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].words < list[j].words })
	for _, c := range list {
		fmt.Fprintf(w, "  %-30s %s\n", strings.TrimSpace(c.words+" "+c.synopsis), c.summary)
	}
	fmt.Fprintf(w, "\n%s help COMMAND, or COMMAND --help, describes a command.\n\nGlobal options:\n", programName)
	top.SetOutput(w)
	top.PrintDefaults()
	fmt.Fprint(w, exitHelp)
}

func printCommandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s %s [OPTIONS]\n\n%s.\n\nOptions (the global ones included):\n", programName, strings.TrimSpace(c.words+" "+c.synopsis), c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, exitHelp)
}

const exitHelp = `
Exit status: 0 done; 1 the service refused or failed the request, or the
operation waited for failed; 2 bad command line or input; 3 broker
unreachable or no reply in time; 130 interrupted.
`
