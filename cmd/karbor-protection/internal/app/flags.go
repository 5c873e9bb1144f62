package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/config"
)

// options are the command line of the Python karbor-protection: oslo.config's
// --config-file and --config-dir (repeatable, applied in the order given),
// oslo.log's command-line options, and --version.
type options struct {
	sources   []config.Source
	overrides []config.Override
	version   bool
}

// sourceFlag appends --config-file / --config-dir values to one ordered
// list, as oslo.config applies them in command-line order.
type sourceFlag struct {
	list *[]config.Source
	dir  bool
}

func (s sourceFlag) String() string { return "" }

func (s sourceFlag) Set(v string) error {
	*s.list = append(*s.list, config.Source{Path: v, Dir: s.dir})
	return nil
}

// overrideFlag records a [DEFAULT] option given on the command line.
type overrideFlag struct {
	list  *[]config.Override
	name  string
	value string // fixed value of a boolean switch; "" takes the argument
}

func (o overrideFlag) String() string { return "" }

func (o overrideFlag) Set(v string) error {
	if o.value != "" {
		if v != "true" { // "--debug=false" and the like
			return fmt.Errorf("takes no value")
		}
		v = o.value
	}
	*o.list = append(*o.list, config.Override{Group: config.DefaultGroup, Name: o.name, Value: v})
	return nil
}

// IsBoolFlag makes a switch take no argument.
func (o overrideFlag) IsBoolFlag() bool { return o.value != "" }

// parseFlags parses the command line. Help (-h, --help) is flag.ErrHelp,
// after the help was written to help (argparse prints it on standard
// output).
func parseFlags(args []string, help io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(binaryName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // errors are reported by the caller, help below
	fs.Var(sourceFlag{&o.sources, false}, "config-file", "Path to a config file to use; may be repeated, later files override earlier ones (default: oslo.config's search for karbor.conf and karbor-protection.conf)")
	fs.Var(sourceFlag{&o.sources, true}, "config-dir", "Path to a directory of *.conf files, read in name order; may be repeated, in command-line order with --config-file")
	fs.BoolVar(&o.version, "version", false, "Print the version and exit")
	valued := []struct{ names, option, help string }{
		{"log-file,logfile", "log_file", "Name of the log file to send logging output to (default: standard output)"},
		{"log-dir,logdir", "log_dir", "Base directory for a relative --log-file; alone, logs go to <dir>/karbor-protection.log"},
		{"log-date-format", "log_date_format", "strftime format of the log lines' date"},
		{"log-config-append,log-config", "log_config_append", "Logging configuration file (not supported; a warning says so)"},
		{"syslog-log-facility", "syslog_log_facility", "Syslog facility (syslog is not supported)"},
	}
	for _, v := range valued {
		for _, name := range strings.Split(v.names, ",") {
			fs.Var(overrideFlag{list: &o.overrides, name: v.option}, name, v.help)
		}
	}
	switches := []struct{ names, option, help string }{
		{"debug,d", "debug", "Log at DEBUG instead of INFO"},
		{"use-syslog", "use_syslog", "Log to syslog (not supported; a warning says so)"},
		{"use-journal", "use_journal", "Log to journald (not supported; a warning says so)"},
		{"use-json", "use_json", "Log one JSON object a line, as oslo.log's JSONFormatter"},
		{"watch-log-file", "watch_log_file", "Reopen the log file when it is moved (always done)"},
	}
	for _, s := range switches {
		for i, name := range strings.Split(s.names, ",") {
			fs.Var(overrideFlag{list: &o.overrides, name: s.option, value: "true"}, name, s.help)
			if i == 0 {
				fs.Var(overrideFlag{list: &o.overrides, name: s.option, value: "false"}, "no"+name, "The opposite of --"+name)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(help, "usage: %s [--config-file PATH]... [--config-dir DIR]... [--debug] [--log-file PATH] [--log-dir DIR] [--version]\n\n", binaryName)
			fs.SetOutput(help)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unrecognized arguments: %s", strings.Join(fs.Args(), " "))
	}
	return o, nil
}
