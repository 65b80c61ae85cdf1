package wire

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// ErrPluginGone is wrapped by every host side error caused by the plugin
// process or its connection going away.
var ErrPluginGone = errors.New("plugin gone")

// ErrUnsupported is wrapped when a plugin lacks an optional ability.
var ErrUnsupported = errors.New("not supported by plugin")

// remoteError is an error the plugin's implementation returned, carried
// across the wire by message, and by class where errors.Is should still work.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// toStatus turns an implementation's error into a gRPC status, keeping the
// classes the host side maps back. A gRPC status the implementation got
// from elsewhere is not passed through: codes Unavailable and Canceled mean
// "plugin gone" on this wire and must come from gRPC itself.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codeOf(err), err.Error())
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		// Aborted, not Canceled: gRPC reports a closing connection as
		// Canceled, which the host reads as the plugin going away.
		return codes.Aborted
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, envelope.ErrInvalid):
		return codes.InvalidArgument
	case errors.Is(err, ErrUnsupported):
		return codes.Unimplemented
	}
	return codes.Unknown
}

// fromCode rebuilds an error from a code and message sent by the plugin.
func fromCode(code codes.Code, msg string) error {
	switch code {
	case codes.OK:
		return nil
	case codes.Aborted:
		return &remoteError{msg, context.Canceled}
	case codes.DeadlineExceeded:
		return &remoteError{msg, context.DeadlineExceeded}
	case codes.InvalidArgument:
		return &remoteError{msg, envelope.ErrInvalid}
	case codes.Unimplemented:
		return &remoteError{msg, ErrUnsupported}
	}
	return &remoteError{msg: msg}
}

// clientErr maps an error from a gRPC call into what host side callers see,
// prefixed with op ("transport: send"). Errors from a dead plugin wrap
// ErrPluginGone; ctx's own cancellation wraps ctx.Err(); the plugin's own
// errors keep their message and class.
func clientErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: stream ended: %v", op, ErrPluginGone, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("%s: %w: %s", op, ErrPluginGone, st.Message())
	case codes.Canceled:
		// Not our ctx: the connection is closing under us.
		return fmt.Errorf("%s: %w: %s", op, ErrPluginGone, st.Message())
	}
	return fmt.Errorf("%s: %w", op, fromCode(st.Code(), st.Message()))
}
