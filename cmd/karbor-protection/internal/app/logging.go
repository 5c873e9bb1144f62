package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/config"
)

// Logging as oslo.log sets it up by default for an OpenStack service:
//
//   - the line format is logging_context_format_string inside a request and
//     logging_default_format_string outside one:
//     "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s
//     [%(global_request_id)s %(request_id)s %(user_identity)s] %(message)s"
//     and "... %(name)s [-] %(message)s";
//   - lines go to log_file (joined to log_dir when both are set; log_dir
//     alone means <log_dir>/karbor-protection.log), to standard error when
//     use_stderr is set, and to standard output when neither is;
//   - the level is DEBUG with debug = true, else INFO; oslo.messaging's
//     loggers stay at INFO whatever debug says (default_log_levels).
//
// With use_json every line is instead a JSON object shaped as oslo.log's
// JSONFormatter writes it (jsonFormatter).
//
// Fields Go code attaches to a line beyond those oslo.log shows are
// appended after the message as key=value, so nothing is lost.
//
// One entry is one line: much of what is logged comes from the wire
// (request and user ids, method names, exception texts), so control
// characters and Unicode line separators are escaped here, in the one place
// every line passes, and a value sent with a newline cannot forge a line.

// Field names the formatter reads.
const (
	fieldLogger          = "logger"
	fieldRequestID       = "request_id"
	fieldGlobalRequestID = "global_request_id"
	fieldUserIdentity    = "user_identity"
)

// osloFormatter formats entries as oslo.log's ContextFormatter does with its
// default format strings.
type osloFormatter struct {
	pid        int
	dateFormat string // strftime, log_date_format
	now        func() time.Time
}

func (f *osloFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	t := e.Time
	if t.IsZero() {
		t = f.now()
	}
	t = t.Local()
	b.WriteString(strftime(t, f.dateFormat))
	fmt.Fprintf(&b, ".%03d %d %s ", t.Nanosecond()/int(time.Millisecond), f.pid, levelName(e.Level))
	name, _ := e.Data[fieldLogger].(string)
	if name == "" {
		name = "karbor"
	}
	writeEscaped(&b, name)
	if id, ok := e.Data[fieldRequestID]; ok && fmt.Sprint(id) != "" {
		b.WriteString(" [")
		writeEscaped(&b, orText(e.Data[fieldGlobalRequestID], "None"))
		b.WriteByte(' ')
		writeEscaped(&b, fmt.Sprint(id))
		b.WriteByte(' ')
		writeEscaped(&b, orText(e.Data[fieldUserIdentity], "-"))
		b.WriteString("] ")
	} else {
		b.WriteString(" [-] ")
	}
	writeEscaped(&b, e.Message)
	for _, k := range extraFields(e.Data) {
		b.WriteByte(' ')
		writeEscaped(&b, k)
		b.WriteByte('=')
		b.WriteString(fieldText(e.Data[k]))
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func orText(v any, def string) string {
	if v == nil {
		return def
	}
	if s := fmt.Sprint(v); s != "" {
		return s
	}
	return def
}

// extraFields are the entry's fields the oslo format has no place for,
// sorted.
func extraFields(data logrus.Fields) []string {
	keys := make([]string, 0, len(data))
	for k := range data {
		switch k {
		case fieldLogger, fieldRequestID, fieldGlobalRequestID, fieldUserIdentity:
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func fieldText(v any) string {
	var s string
	switch v := v.(type) {
	case error:
		s = v.Error()
	case string:
		s = v
	default:
		s = fmt.Sprint(v)
	}
	if s == "" || strings.ContainsAny(s, " =\"\\") || strings.IndexFunc(s, breaksLine) >= 0 {
		return strconv.Quote(s) // escapes every control character
	}
	return s
}

// breaksLine reports the characters escaped in log lines: C0 and C1
// controls (newline, carriage return, tab, escape sequences...) and the
// Unicode line and paragraph separators.
func breaksLine(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029'
}

// writeEscaped writes s with the characters breaksLine reports escaped as
// in Go and Python literals (\n, \r, \t, \x1b, \u2028), the rest as is.
func writeEscaped(b *bytes.Buffer, s string) {
	if strings.IndexFunc(s, breaksLine) < 0 {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && breaksLine(r):
			fmt.Fprintf(b, `\x%02x`, r)
		case breaksLine(r):
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
}

// levelName is Python logging's level name.
func levelName(l logrus.Level) string {
	switch l {
	case logrus.PanicLevel, logrus.FatalLevel:
		return "CRITICAL"
	case logrus.ErrorLevel:
		return "ERROR"
	case logrus.WarnLevel:
		return "WARNING"
	case logrus.InfoLevel:
		return "INFO"
	case logrus.DebugLevel:
		return "DEBUG"
	}
	return "TRACE"
}

// strftime formats t with the directives log_date_format may use; any other
// directive is written as it is.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// processStart is when the program started, for the JSON lines'
// relative_created (milliseconds since logging was loaded, in Python).
var processStart = time.Now()

// logging is the service's loggers: one for karbor's own lines and one,
// held at INFO, for the RPC layer (oslo.messaging's default_log_levels).
type logging struct {
	base    *logrus.Logger
	rpc     *logrus.Logger
	closers []io.Closer
}

// binaryName names the log file when only log_dir is set, as oslo.log uses
// the program's name.
const binaryName = "karbor-protection"

// newLogging sets logging up from the [DEFAULT] oslo.log options, and points
// the standard logger (which logctx falls back to) at the same place.
func newLogging(opts config.Log, stdout, stderr io.Writer) (*logging, []string, error) {
	var warnings []string
	for _, o := range []struct {
		set  bool
		name string
	}{{opts.UseSyslog, "use_syslog"}, {opts.UseJournal, "use_journal"}, {opts.ConfigAppend != "", "log_config_append"}} {
		if o.set {
			warnings = append(warnings, o.name+" is not supported; logging as the other oslo.log options say")
		}
	}
	l := &logging{}
	var outs []io.Writer
	if path := logFilePath(opts.File, opts.Dir); path != "" {
		w, err := openWatchedFile(path)
		if err != nil {
			return nil, warnings, err
		}
		outs = append(outs, w)
		l.closers = append(l.closers, w)
	}
	if opts.UseStderr {
		outs = append(outs, stderr)
	}
	if len(outs) == 0 {
		outs = append(outs, stdout)
	}
	out := io.MultiWriter(outs...)
	dateFormat := opts.DateFormat
	if dateFormat == "" {
		dateFormat = "%Y-%m-%d %H:%M:%S"
	}
	var f logrus.Formatter = &osloFormatter{pid: os.Getpid(), dateFormat: dateFormat, now: time.Now}
	if opts.UseJSON {
		host, _ := os.Hostname()
		f = &jsonFormatter{pid: os.Getpid(), hostname: host, dateFormat: dateFormat, start: processStart, now: time.Now}
	}
	level := logrus.InfoLevel
	if opts.Debug {
		level = logrus.DebugLevel
	}
	newLogger := func(level logrus.Level) *logrus.Logger {
		lg := logrus.New()
		lg.SetOutput(out)
		lg.SetFormatter(f)
		lg.SetLevel(level)
		return lg
	}
	l.base = newLogger(level)
	l.rpc = newLogger(logrus.InfoLevel)
	std := logrus.StandardLogger()
	std.SetOutput(out)
	std.SetFormatter(f)
	std.SetLevel(level)
	return l, warnings, nil
}

// entry returns an entry for the Python logger name.
func (l *logging) entry(name string) *logrus.Entry {
	return l.base.WithField(fieldLogger, name)
}

// rpcEntry is the RPC server's entry.
func (l *logging) rpcEntry() *logrus.Entry {
	return l.rpc.WithField(fieldLogger, "oslo_messaging.rpc.server")
}

func (l *logging) Close() error {
	var errs []error
	for _, c := range l.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// logFilePath is oslo.log's _get_log_file_path.
func logFilePath(file, dir string) string {
	switch {
	case file != "" && dir == "":
		return file
	case file != "":
		return filepath.Join(dir, file)
	case dir != "":
		return filepath.Join(dir, binaryName+".log")
	}
	return ""
}

// watchedFile is Python's WatchedFileHandler, oslo.log's file handler: the
// file is reopened when it was moved or removed (by logrotate), checked
// before every line.
type watchedFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	info os.FileInfo
}

func openWatchedFile(path string) (*watchedFile, error) {
	w := &watchedFile{path: path}
	if err := w.reopen(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *watchedFile) reopen() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f, w.info = f, info
	return nil
}

func (w *watchedFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now, err := os.Stat(w.path); err != nil || !os.SameFile(now, w.info) {
		if err := w.reopen(); err != nil {
			return 0, err
		}
	}
	return w.f.Write(p)
}

func (w *watchedFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}
