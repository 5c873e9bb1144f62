package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/sirupsen/logrus"
)

// jsonFormatter formats entries as oslo.log's JSONFormatter (use_json =
// true): one JSON object a line with the keys and key order of a Python
// log record. What only the interpreter knows is given its Go equivalent
// or left empty: pathname, filename, module and funcname are the logger
// name's last part (or ""), lineno 0, thread null, thread_name and
// process_name oslo's defaults for a single-threaded program. The request
// fields go to "context" (oslo puts the request context's logging values
// there), every other field to "extra". encoding/json escapes control
// characters, so a value from the wire cannot break a line.
type jsonFormatter struct {
	pid        int
	hostname   string
	dateFormat string // strftime, log_date_format
	start      time.Time
	now        func() time.Time
}

// contextFields are the fields that belong to "context".
var contextFields = []string{fieldRequestID, fieldGlobalRequestID, fieldUserIdentity, "project_id", "user_id"}

func (f *jsonFormatter) Format(e *logrus.Entry) ([]byte, error) {
	t := e.Time
	if t.IsZero() {
		t = f.now()
	}
	t = t.Local()
	name, _ := e.Data[fieldLogger].(string)
	if name == "" {
		name = "karbor"
	}
	module := filepath.Ext(name)
	if module != "" {
		module = module[1:]
	} else {
		module = name
	}
	ctx := map[string]any{}
	extra := map[string]any{}
	for k, v := range e.Data {
		if k == fieldLogger {
			continue
		}
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		if slices.Contains(contextFields, k) {
			ctx[k] = v
		} else {
			extra[k] = jsonValue(v)
		}
	}
	if _, ok := ctx[fieldRequestID]; !ok {
		ctx = map[string]any{} // outside a request oslo writes {}
	}
	errorSummary := ""
	if e.Level <= logrus.WarnLevel {
		if err, ok := e.Data[logrus.ErrorKey].(error); ok {
			errorSummary = err.Error()
		}
	}
	created := float64(t.UnixNano()) / 1e9
	// Keys in the order oslo.log writes them (a Python dict keeps its
	// insertion order); json.Marshal of a struct keeps field order.
	rec := struct {
		Message         string         `json:"message"`
		Asctime         string         `json:"asctime"`
		Name            string         `json:"name"`
		Msg             string         `json:"msg"`
		Args            []any          `json:"args"`
		Levelname       string         `json:"levelname"`
		Levelno         int            `json:"levelno"`
		Pathname        string         `json:"pathname"`
		Filename        string         `json:"filename"`
		Module          string         `json:"module"`
		Lineno          int            `json:"lineno"`
		Funcname        string         `json:"funcname"`
		Created         float64        `json:"created"`
		Msecs           float64        `json:"msecs"`
		RelativeCreated float64        `json:"relative_created"`
		Thread          *int           `json:"thread"`
		ThreadName      string         `json:"thread_name"`
		ProcessName     string         `json:"process_name"`
		Process         int            `json:"process"`
		Traceback       []string       `json:"traceback"`
		Hostname        string         `json:"hostname"`
		ErrorSummary    string         `json:"error_summary"`
		Context         map[string]any `json:"context"`
		Extra           map[string]any `json:"extra"`
	}{
		Message: e.Message, Asctime: strftime(t, f.dateFormat), Name: name, Msg: e.Message, Args: []any{},
		Levelname: levelName(e.Level), Levelno: levelNumber(e.Level), Module: module,
		Created: created, Msecs: float64(t.Nanosecond() / int(time.Millisecond)),
		RelativeCreated: float64(t.Sub(f.start).Microseconds()) / 1000,
		ThreadName:      "MainThread", ProcessName: "MainProcess", Process: f.pid,
		Hostname: f.hostname, ErrorSummary: errorSummary, Context: ctx, Extra: extra,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, fmt.Errorf("log line: %w", err)
	}
	return b.Bytes(), nil
}

// jsonValue is v if it encodes as JSON, else its text (oslo.log's
// _json_dumps_with_fallback writes repr() of what json cannot).
func jsonValue(v any) any {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Sprint(v)
	}
	return v
}

// levelNumber is Python logging's numeric level.
func levelNumber(l logrus.Level) int {
	switch l {
	case logrus.PanicLevel, logrus.FatalLevel:
		return 50
	case logrus.ErrorLevel:
		return 40
	case logrus.WarnLevel:
		return 30
	case logrus.InfoLevel:
		return 20
	case logrus.DebugLevel:
		return 10
	}
	return 5
}
