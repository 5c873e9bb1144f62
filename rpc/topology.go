package rpc

import (
	"math"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The names and flags below reproduce oslo's Connection.declare_*_consumer
// (impl_rabbit.py) exactly: RabbitMQ refuses a re-declaration that differs in
// any flag or argument with 406 PRECONDITION_FAILED, and every party (Python
// or Go, client or server) re-declares these entities.

// exchangeDecl is one Exchange.Declare.
type exchangeDecl struct {
	Name       string
	Kind       string
	Durable    bool
	AutoDelete bool
}

// queueDecl is one Queue.Declare plus its binding (none when Exchange is "").
type queueDecl struct {
	Exchange   exchangeDecl
	Name       string
	RoutingKey string
	Durable    bool
	AutoDelete bool
	Args       amqp.Table
}

// serverTopology is what an RPC server declares and consumes, in oslo's
// order: topic queue, server queue, fanout queue (consumer tags "1", "2", "3").
func serverTopology(o *RabbitOptions, exchange, topic, server, fanoutQueue string) []queueDecl {
	topicExchange := exchangeDecl{Name: exchange, Kind: amqp.ExchangeTopic, Durable: o.durable(), AutoDelete: o.AMQPAutoDelete}
	topicArgs := queueArgs(o, true, 0)
	return []queueDecl{
		{Exchange: topicExchange, Name: topic, RoutingKey: topic, Durable: o.durable(), AutoDelete: o.AMQPAutoDelete, Args: topicArgs},
		{Exchange: topicExchange, Name: topic + "." + server, RoutingKey: topic + "." + server, Durable: o.durable(), AutoDelete: o.AMQPAutoDelete, Args: topicArgs},
		{
			Exchange: fanoutExchange(topic),
			Name:     fanoutQueue, RoutingKey: topic,
			Args: queueArgs(o, false, o.RabbitTransientQueuesTTL.Seconds()),
		},
	}
}

// replyQueue is the client's reply_<hex> queue: reached through the default
// exchange, never bound.
func replyQueue(o *RabbitOptions, name string) queueDecl {
	return queueDecl{Name: name, Args: queueArgs(o, false, o.RabbitTransientQueuesTTL.Seconds())}
}

// topicExchange is what a client declares before a call or cast.
func topicExchange(o *RabbitOptions, exchange string) exchangeDecl {
	return exchangeDecl{Name: exchange, Kind: amqp.ExchangeTopic, Durable: o.durable(), AutoDelete: o.AMQPAutoDelete}
}

// fanoutExchange is "<topic>_fanout": never durable, always auto-delete.
func fanoutExchange(topic string) exchangeDecl {
	return exchangeDecl{Name: topic + "_fanout", Kind: amqp.ExchangeFanout, AutoDelete: true}
}

// queueArgs is oslo's _get_queue_arguments. Quorum settings apply to topic
// queues only; the TTL (seconds) to fanout and reply queues only.
func queueArgs(o *RabbitOptions, topicQueue bool, ttlSeconds float64) amqp.Table {
	args := amqp.Table{}
	if o.RabbitHAQueues {
		args["x-ha-policy"] = "all"
	}
	if topicQueue && o.RabbitQuorumQueue {
		args["x-queue-type"] = "quorum"
		if o.RabbitQuorumDeliveryLimit != 0 {
			args["x-delivery-limit"] = pyInt(int64(o.RabbitQuorumDeliveryLimit))
		}
		if o.RabbitQuorumMaxMemoryLength != 0 {
			args["x-max-in-memory-length"] = pyInt(int64(o.RabbitQuorumMaxMemoryLength))
		}
		if o.RabbitQuorumMaxMemoryBytes != 0 {
			args["x-max-in-memory-bytes"] = pyInt(int64(o.RabbitQuorumMaxMemoryBytes))
		}
	}
	if ttl := int64(ttlSeconds); ttl > 0 {
		args["x-expires"] = pyInt(ttl * 1000)
	}
	return args
}

// pyInt encodes an integer as py-amqp does: a signed 32-bit field when it
// fits, else a 64-bit one.
func pyInt(v int64) any {
	if v >= -math.MaxInt32 && v <= math.MaxInt32 {
		return int32(v)
	}
	return v
}

// consumerArgs are the Basic.Consume arguments.
func consumerArgs(o *RabbitOptions) amqp.Table {
	if o.EnableCancelOnFailover {
		return amqp.Table{"x-cancel-on-ha-failover": true}
	}
	return nil
}

// declarer is the part of *amqp.Channel that declares topology.
type declarer interface {
	ExchangeDeclare(name, kind string, durable, autoDelete, internal, noWait bool, args amqp.Table) error
	QueueDeclare(name string, durable, autoDelete, exclusive, noWait bool, args amqp.Table) (amqp.Queue, error)
	QueueBind(name, key, exchange string, noWait bool, args amqp.Table) error
}

func (e exchangeDecl) declare(ch declarer) error {
	return ch.ExchangeDeclare(e.Name, e.Kind, e.Durable, e.AutoDelete, false, false, nil)
}

// declare runs Exchange.Declare, Queue.Declare and Queue.Bind, as kombu's
// Queue.declare does.
func (q queueDecl) declare(ch declarer) error {
	if q.Exchange.Name != "" {
		if err := q.Exchange.declare(ch); err != nil {
			return err
		}
	}
	if _, err := ch.QueueDeclare(q.Name, q.Durable, q.AutoDelete, false, false, q.Args); err != nil {
		return err
	}
	if q.Exchange.Name == "" {
		return nil
	}
	return ch.QueueBind(q.Name, q.RoutingKey, q.Exchange.Name, false, nil)
}
