package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gokarbor/karbor-protection/bank"
)

// Error is a failed S3 request. Its text is botocore's, the reason the
// Python plugin puts in its Bank*Failed exceptions ("An error occurred
// (NoSuchKey) when calling the GetObject operation: The specified key
// does not exist."), or, when the server could not be reached at all,
// botocore's EndpointConnectionError text plus the cause.
type Error struct {
	// Operation is the S3 operation, e.g. "PutObject".
	Operation string
	// Code is the S3 error code ("NoSuchKey", "AccessDenied", or the
	// status for a HEAD, which has no body); "" when no answer came.
	Code string
	// Message is the server's message (or the status text).
	Message string
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Attempts is how many attempts were made when retries ran out.
	Attempts int
	// Endpoint is s3_endpoint, for connection failures.
	Endpoint string
	// Err is the client's error.
	Err error

	cause error // what failed to send, without the client's wrapping
}

func (e *Error) Error() string {
	retries := ""
	if e.Attempts > 1 {
		retries = fmt.Sprintf(" (reached max retries: %d)", e.Attempts-1)
	}
	if e.Status == 0 {
		return fmt.Sprintf("Could not connect to the endpoint URL: %q%s: %v", e.Endpoint, retries, e.cause)
	}
	return fmt.Sprintf("An error occurred (%s) when calling the %s operation%s: %s", e.Code, e.Operation, retries, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes a missing key (or bucket) match bank.ErrNotFound.
func (e *Error) Is(target error) bool {
	return target == bank.ErrNotFound && e.notFound()
}

func (e *Error) notFound() bool {
	switch e.Code {
	case "NoSuchKey", "NotFound", "404":
		return true
	}
	return false
}

// newError describes a client error of operation. Cancellations are
// returned as they are: the caller gave up, nothing failed.
func (p *Plugin) newError(operation string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &Error{Operation: operation, Endpoint: p.endpoint(), Err: err}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		e.Attempts = maxAttempts.Attempt
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		e.Status = resp.HTTPStatusCode()
		e.Message = http.StatusText(e.Status)
		e.Code = fmt.Sprint(e.Status)
	}
	// A HEAD answer has no body: botocore names the error by its status,
	// where the SDK makes up a code from the status text.
	var api smithy.APIError
	if operation != "HeadObject" && errors.As(err, &api) && api.ErrorCode() != "" {
		e.Code = api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			e.Message = m
		}
	}
	if e.Status == 0 {
		var send *smithyhttp.RequestSendError
		if errors.As(err, &send) {
			e.cause = send.Err
		} else {
			e.Status = -1 // an error before or after the exchange
			e.Code, e.Message = "ClientError", err.Error()
		}
	}
	return e
}

// endpoint is the endpoint errors name.
func (p *Plugin) endpoint() string {
	if p.opts.Endpoint == "" {
		return "https://s3." + p.opts.Region + ".amazonaws.com"
	}
	return p.opts.Endpoint
}
