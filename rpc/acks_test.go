package rpc

import (
	"fmt"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ackRecorder passes acks on to the real channel and remembers them.
type ackRecorder struct {
	ch   *amqp.Channel
	acks []string
}

func (r *ackRecorder) Ack(tag uint64, multiple bool) error {
	r.acks = append(r.acks, fmt.Sprintf("%d/%v", tag, multiple))
	return r.ch.Ack(tag, multiple)
}

func (r *ackRecorder) Nack(tag uint64, multiple, requeue bool) error {
	return r.ch.Nack(tag, multiple, requeue)
}

func (r *ackRecorder) Reject(tag uint64, requeue bool) error { return r.ch.Reject(tag, requeue) }

// Batched acks settle exactly what was accepted: one multiple ack when every
// earlier tag of the channel was received, single acks above a gap, so that
// a delivery still on its way to us (another consumer's) is never acked
// unseen and comes back when the channel closes.
func TestAckTrackerOnTheBroker(t *testing.T) {
	url := rpctest.Vhost(t)
	raw := dialRaw(t, url)
	queues := []string{"acks_a", "acks_b"}
	for _, q := range queues {
		_, err := raw.ch.QueueDeclare(q, false, false, false, false, nil)
		require.NoError(t, err)
	}
	publish := func(q string, n int) {
		for i := range n {
			raw.publish(t, "", q, amqp.Publishing{Body: []byte(fmt.Sprint(i))})
		}
	}
	// ready counts the messages back in q once the consumer channel is gone.
	ready := func(q string) int {
		info, err := raw.ch.QueueDeclarePassive(q, false, false, false, false, nil)
		require.NoError(t, err)
		return info.Messages
	}
	take := func(t *testing.T, d <-chan amqp.Delivery, n int) []amqp.Delivery {
		var out []amqp.Delivery
		for range n {
			select {
			case m := <-d:
				out = append(out, m)
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d of %d deliveries", len(out), n)
			}
		}
		return out
	}

	t.Run("in order: one multiple ack", func(t *testing.T) {
		publish("acks_a", 5)
		conn, err := amqp.Dial(rpctest.AMQPURL(url))
		require.NoError(t, err)
		ch, err := conn.Channel()
		require.NoError(t, err)
		d, err := ch.Consume("acks_a", "", false, false, false, false, nil)
		require.NoError(t, err)
		var tr ackTracker
		var tags []uint64
		for i, m := range take(t, d, 5) {
			tr.received(m.DeliveryTag)
			if i == 2 { // undecodable: rejected at once
				require.NoError(t, m.Reject(false))
				continue
			}
			tags = append(tags, m.DeliveryTag)
		}
		rec := &ackRecorder{ch: ch}
		require.NoError(t, tr.ack(rec, tags))
		assert.Equal(t, []string{"5/true"}, rec.acks)
		require.NoError(t, conn.Close())
		assert.Zero(t, ready("acks_a"), "every delivery settled")
	})

	t.Run("another consumer's delivery unseen", func(t *testing.T) {
		publish("acks_a", 3)
		publish("acks_b", 3)
		conn, err := amqp.Dial(rpctest.AMQPURL(url))
		require.NoError(t, err)
		ch, err := conn.Channel()
		require.NoError(t, err)
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		consume := func(q string) <-chan amqp.Delivery {
			d, err := ch.Consume(q, "", false, false, false, false, nil)
			require.NoError(t, err)
			return d
		}
		fromA := consume("acks_a")
		a := take(t, fromA, 1) // tag 1 is acks_a's...
		fromB := consume("acks_b")
		a = append(a, take(t, fromA, 2)...)
		b := take(t, fromB, 3)
		require.Equal(t, uint64(1), a[0].DeliveryTag)

		// ... and still on its way to us when acks_b's are acked.
		var tr ackTracker
		var tags []uint64
		var want []string
		for _, m := range b {
			tr.received(m.DeliveryTag)
			tags = append(tags, m.DeliveryTag)
			want = append(want, fmt.Sprintf("%d/false", m.DeliveryTag))
		}
		rec := &ackRecorder{ch: ch}
		require.NoError(t, tr.ack(rec, tags))
		assert.Equal(t, want, rec.acks, "no multiple ack over an unseen tag")

		tr.received(a[0].DeliveryTag)
		rec.acks = nil
		require.NoError(t, tr.ack(rec, []uint64{a[0].DeliveryTag}))
		assert.Equal(t, []string{"1/false"}, rec.acks)

		select {
		case err := <-closed:
			t.Fatalf("channel closed: %v", err)
		default:
		}
		require.NoError(t, conn.Close())
		assert.Zero(t, ready("acks_b"), "acks_b settled")
		assert.Equal(t, 2, ready("acks_a"), "acks_a's unseen deliveries came back")
	})
}
