package rpc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Failures are logged at oslo's levels: LOG.exception (ERROR) for what oslo
// and the interpreter raise, DEBUG for a missing *_ignore_errors method,
// INFO for the application's own exceptions.
func TestLogFailureLevels(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		level string
	}{
		{"NoSuchMethod", NoSuchMethod("nope"), "error"},
		{"NoSuchMethod ignored", NoSuchMethod("cleanup_ignore_errors"), "debug"},
		{"UnsupportedVersion", UnsupportedVersion([]byte(`"9.0"`), []byte(`"m"`)), "error"},
		{"TypeError", NewTypeError("f() missing 1 required positional argument: 'x'"), "error"},
		{"wrapped TypeError", fmt.Errorf("bind: %w", NewTypeError("bad")), "error"},
		{"DecodeError", decodeError(ErrUndecodable), "error"},
		{"application exception", NewException("karbor.exception", "ProviderNotFound", "Provider p could not be found."), "info"},
		{"plain Go error", errors.New("boom"), "error"},
		{"panic", &PanicError{Value: "boom"}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := newTestLogger()
			logFailure(log, tt.err)
			lines := logs.Lines(`"level":"` + tt.level + `"`)
			assert.Len(t, lines, 1, "%s", logs)
		})
	}
}
