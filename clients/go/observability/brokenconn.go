package observability

import (
	"context"
	"errors"
	"io"
	"net"

	"connectrpc.com/connect"
)

// brokenConnectionAsUnavailable reports a connection that broke mid-call as CodeUnavailable, the
// code reconnect logic keys on.
//
// When the server dies mid-call (killed, not drained), connect-go reports the response body that
// ended early as CodeInternal, "protocol error: incomplete envelope: unexpected EOF". That error is
// made on the client's side, not read from the server: a real internal answer from the server
// carries a status and is a wire error (connect.IsWireError), and is left alone. So is any error
// once the caller's context is done (its cancel or deadline is the cause then).
//
// Over gRPC, a stream the server reset with CANCEL (it gives up an answer the client has not read
// for RS3GW_SEND_TIMEOUT) comes as CodeCanceled, "stream error: ...; CANCEL; received from peer",
// while the caller's context is not done: the caller did not cancel, so it is a broken call too.
// So is a call in flight on a connection Client.Close closed (CodeInternal, "use of closed network
// connection"). A call made after Close is CodeCanceled, "the client is closed": the caller ended
// the client, and a reconnect loop keyed on CodeUnavailable must not spin on it.
type brokenConnectionAsUnavailable struct {
	// conns are the client's own connections (nil with WithHTTPClient): a closed connection is a
	// broken call only when Client.Close closed it, not when the caller closed its own stream.
	conns *connTracker
}

var _ connect.Interceptor = brokenConnectionAsUnavailable{}

// translate returns err as CodeUnavailable if it is a broken connection, else err itself. The
// error under it (io.ErrUnexpectedEOF, net.ErrClosed, the stream reset) stays in the chain, for
// errors.Is.
func (b brokenConnectionAsUnavailable) translate(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	if errors.Is(err, errClientClosed) {
		return connect.NewError(connect.CodeCanceled, errClientClosed)
	}
	var connectErr *connect.Error
	if !errors.As(err, &connectErr) || connect.IsWireError(err) {
		return err
	}
	brokenBody := connectErr.Code() == connect.CodeInternal && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) && b.conns.isClosed())
	if !brokenBody && connectErr.Code() != connect.CodeCanceled {
		return err
	}
	// The same message under the new code: "unavailable: protocol error: incomplete envelope:
	// unexpected EOF".
	return connect.NewError(connect.CodeUnavailable, connectErr.Unwrap())
}

func (b brokenConnectionAsUnavailable) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		return res, b.translate(ctx, err)
	}
}

func (b brokenConnectionAsUnavailable) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		return &brokenConnectionStream{StreamingClientConn: next(ctx, spec), ctx: ctx, b: b}
	}
}

// WrapStreamingHandler is a no-op: the interceptor is for clients.
func (brokenConnectionAsUnavailable) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// brokenConnectionStream translates the errors of a stream's Receive, where a server stream's
// broken connection surfaces (WatchAnomalies).
type brokenConnectionStream struct {
	connect.StreamingClientConn
	ctx context.Context
	b   brokenConnectionAsUnavailable
}

func (s *brokenConnectionStream) Receive(msg any) error {
	return s.b.translate(s.ctx, s.StreamingClientConn.Receive(msg))
}
