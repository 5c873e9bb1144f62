package rpc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

// rawConn is a plain amqp091-go connection for tests that need to put
// hand-made messages on the wire or read raw ones.
type rawConn struct {
	conn *amqp.Connection
	ch   *amqp.Channel
}

func dialRaw(t testing.TB, transportURL string) *rawConn {
	t.Helper()
	conn, err := amqp.Dial(rpctest.AMQPURL(transportURL))
	require.NoError(t, err)
	ch, err := conn.Channel()
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &rawConn{conn: conn, ch: ch}
}

// replyQueue declares and consumes a reply queue of our own.
func (r *rawConn) replyQueue(t testing.TB) (string, <-chan amqp.Delivery) {
	t.Helper()
	name := "reply_raw_" + newUniqueID()
	_, err := r.ch.QueueDeclare(name, false, true, false, false, nil)
	require.NoError(t, err)
	d, err := r.ch.Consume(name, "", true, false, false, false, nil)
	require.NoError(t, err)
	return name, d
}

func (r *rawConn) publish(t testing.TB, exchange, key string, msg amqp.Publishing) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.ch.PublishWithContext(ctx, exchange, key, false, false, msg))
}

// rawRequest is an enveloped request body from a JSON object literal.
func rawRequest(t testing.TB, members map[string]any) []byte {
	t.Helper()
	inner, err := json.Marshal(members)
	require.NoError(t, err)
	return envelope(inner)
}

func waitReply(t testing.TB, deliveries <-chan amqp.Delivery, within time.Duration) (replyMsg, amqp.Delivery) {
	t.Helper()
	select {
	case d := <-deliveries:
		r, err := decodeReply(d.ContentType, d.Headers, d.Body, testMaxInflated)
		require.NoError(t, err)
		return r, d
	case <-time.After(within):
		t.Fatalf("no reply within %s", within)
	}
	return replyMsg{}, amqp.Delivery{}
}

// noReply asserts that nothing arrives within the window: a negative check,
// so it must wait the window out.
func noReply(t testing.TB, deliveries <-chan amqp.Delivery, within time.Duration) {
	t.Helper()
	select {
	case d := <-deliveries:
		t.Fatalf("unexpected reply: %s", d.Body)
	case <-time.After(within):
	}
}
