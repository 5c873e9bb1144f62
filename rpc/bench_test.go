package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// The RPC benchmarks measure our client against our server and, in the same
// run and on the same broker, their floor: a bare amqp091-go request/reply
// echo moving bodies of the same sizes (no envelope, no JSON, no confirms,
// auto-ack, the default exchange). They report both and the ratio, and,
// when the broker runs on this machine, the CPU time each call costs in Go
// (client and server together) and in the broker.

// benchRequestContext is a small request context, as on a trivial call.
var benchRequestContext = map[string]any{"request_id": "req-bench", "user_id": "u-1", "project_id": "p-1"}

// echoDuties are the parts of oslo's protocol a bare echo can take on, one
// at a time, to price each in broker and Go CPU.
type echoDuties struct {
	topic        bool // requests routed through a topic exchange
	props        bool // oslo's message properties (persistent, expiration, headers)
	serverAck    bool // the server acks each request (before handling it)
	clientAck    bool // the client acks each reply
	reqConfirm   bool // requests published in confirm mode, the confirm awaited
	replyConfirm bool // replies published mandatory in confirm mode, the confirm awaited
}

// osloDuties is everything oslo's protocol obliges an implementation to do.
var osloDuties = echoDuties{topic: true, props: true, serverAck: true, clientAck: true, reqConfirm: true, replyConfirm: true}

func (d echoDuties) String() string {
	if d == (echoDuties{}) {
		return "bare"
	}
	if d == osloDuties {
		return "all-duties"
	}
	s := ""
	for _, f := range []struct {
		on   bool
		name string
	}{{d.topic, "topic"}, {d.props, "props"}, {d.serverAck, "server-ack"}, {d.clientAck, "client-ack"},
		{d.reqConfirm, "request-confirm"}, {d.replyConfirm, "reply-confirm"}} {
		if f.on {
			s += "+" + f.name
		}
	}
	return s[1:]
}

// bareEcho is a floor: a server consuming its request queue and answering
// each message to its ReplyTo with a body of replySize bytes, and a client
// with its own reply queue, correlating on CorrelationId.
type bareEcho struct {
	srvConn, pubConn, cliConn *amqp.Connection
	cli                       *amqp.Channel
	exchange, key, replyQ     string
	reqBody                   []byte
	duties                    echoDuties
	mu                        sync.Mutex
	waiters                   map[string]chan struct{}
	wg                        sync.WaitGroup
}

func startBareEcho(b *testing.B, url string, reqSize, replySize int, duties echoDuties) *bareEcho {
	b.Helper()
	e := &bareEcho{reqBody: make([]byte, reqSize), waiters: map[string]chan struct{}{}, duties: duties}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	dial := func() *amqp.Connection {
		c, err := amqp.Dial(rpctest.AMQPURL(url))
		must(err)
		return c
	}
	channel := func(c *amqp.Connection) *amqp.Channel {
		ch, err := c.Channel()
		must(err)
		return ch
	}
	e.srvConn, e.pubConn, e.cliConn = dial(), dial(), dial()
	srv, pub := channel(e.srvConn), channel(e.pubConn)
	if duties.replyConfirm {
		must(pub.Confirm(false))
	}
	queue := "bare_requests_" + newUniqueID()
	_, err := srv.QueueDeclare(queue, false, true, false, false, nil)
	must(err)
	e.key = queue
	if duties.topic {
		e.exchange = "bare_topic"
		must(srv.ExchangeDeclare(e.exchange, amqp.ExchangeTopic, false, true, false, false, nil))
		must(srv.QueueBind(queue, queue, e.exchange, false, nil))
	}
	requests, err := srv.Consume(queue, "", !duties.serverAck, false, false, false, nil)
	must(err)
	replyBody := make([]byte, replySize)
	e.wg.Go(func() {
		var handlers sync.WaitGroup
		defer handlers.Wait()
		for d := range requests {
			if duties.serverAck {
				_ = d.Ack(false)
			}
			msg := amqp.Publishing{CorrelationId: d.CorrelationId, Body: replyBody}
			if duties.props {
				msg = replyPublishing(replyBody)
				msg.CorrelationId = d.CorrelationId
			}
			if !duties.replyConfirm {
				_ = pub.Publish("", d.ReplyTo, false, false, msg)
				continue
			}
			handlers.Go(func() {
				dc, err := pub.PublishWithDeferredConfirm("", d.ReplyTo, true, false, msg)
				if err == nil {
					<-dc.Done()
				}
			})
		}
	})
	e.cli = channel(e.cliConn)
	if duties.reqConfirm {
		must(e.cli.Confirm(false))
	}
	q, err := e.cli.QueueDeclare("", false, true, true, false, nil)
	must(err)
	e.replyQ = q.Name
	replies, err := e.cli.Consume(q.Name, "", !duties.clientAck, false, false, false, nil)
	must(err)
	e.wg.Go(func() {
		for d := range replies {
			if duties.clientAck {
				_ = d.Ack(false)
			}
			e.mu.Lock()
			ch := e.waiters[d.CorrelationId]
			delete(e.waiters, d.CorrelationId)
			e.mu.Unlock()
			if ch != nil {
				close(ch)
			}
		}
	})
	b.Cleanup(func() {
		_ = e.cliConn.Close()
		_ = e.srvConn.Close()
		_ = e.pubConn.Close()
		e.wg.Wait()
	})
	return e
}

func (e *bareEcho) call() error {
	id := newUniqueID()
	done := make(chan struct{})
	e.mu.Lock()
	e.waiters[id] = done
	e.mu.Unlock()
	msg := amqp.Publishing{CorrelationId: id, ReplyTo: e.replyQ, Body: e.reqBody}
	if e.duties.props {
		msg = requestPublishing(e.reqBody)
		msg.CorrelationId, msg.ReplyTo, msg.Expiration = id, e.replyQ, "60000"
	}
	dc, err := e.cli.PublishWithDeferredConfirm(e.exchange, e.key, false, false, msg)
	if err != nil {
		return err
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("bare echo %s: no reply", e.duties)
	}
	if dc != nil {
		<-dc.Done()
	}
	return nil
}

// benchStack is one request/reply implementation under measurement.
type benchStack struct {
	name string
	call func() error
	time time.Duration
	cpu  cpuUse
}

// benchSetup starts our server and client, then the bare floor and the
// floor with every oslo duty, with the same body sizes, plus one floor per
// extra duty set.
func benchSetup(b *testing.B, extra ...echoDuties) []*benchStack {
	b.Helper()
	url := rpctest.Vhost(b)
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	log := logrus.NewEntry(l)
	srv, err := NewServer(ServerConfig{TransportURL: url, Exchange: testExchange, Topic: testTopic, Server: testHost, Logger: log},
		NewEndpoint("Endpoint", "1.0").Handle("ret_str", func(context.Context, *Call) (any, error) { return "hello", nil }))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case <-srv.Ready():
	case <-time.After(30 * time.Second):
		b.Fatalf("server not ready: %v", srv.Health())
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer dcancel()
	c, err := Dial(dctx, ClientConfig{TransportURL: url, Exchange: testExchange, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)

	target := Target{Topic: testTopic, Version: "1.0"}
	stacks := []*benchStack{{name: "oslo", call: func() error {
		_, err := c.Call(context.Background(), target, "ret_str", nil, benchRequestContext)
		return err
	}}}
	// Same sizes on the floor: our request and reply bodies for this call.
	req, err := encodeRequest("ret_str", nil, target, benchRequestContext, &callFields{msgID: newUniqueID(), replyQ: c.ReplyQueue()})
	if err != nil {
		b.Fatal(err)
	}
	reply := encodeReply([]byte(`"hello"`), nil, true, []byte(`"`+newUniqueID()+`"`))
	for _, d := range append([]echoDuties{{}, osloDuties}, extra...) {
		e := startBareEcho(b, url, len(req), len(reply), d)
		stacks = append(stacks, &benchStack{name: d.String(), call: e.call})
	}
	for range 20 { // warm up every path
		for _, s := range stacks {
			if err := s.call(); err != nil {
				b.Fatal(err)
			}
		}
	}
	return stacks
}

// report gives each stack's figure (a per-call time or a rate, with its
// unit) and CPU split per call; then our ratio to the bare floor (the
// issue's target), to each other floor, and each other floor's own ratio
// to the bare one, which is what the protocol alone costs.
func report(b *testing.B, stacks []*benchStack, calls float64, meter *cpuMeter, unit, ratioName string, figure func(*benchStack) float64) {
	for _, s := range stacks {
		b.ReportMetric(figure(s), s.name+"-"+unit)
		b.ReportMetric(float64(s.cpu.self.Microseconds())/calls, s.name+"-go-cpu-µs/call")
		if meter.local() {
			b.ReportMetric(float64(s.cpu.broker.Microseconds())/calls, s.name+"-broker-cpu-µs/call")
		}
	}
	oslo, bare := figure(stacks[0]), figure(stacks[1])
	b.ReportMetric(oslo/bare, ratioName)
	for _, s := range stacks[2:] {
		b.ReportMetric(oslo/figure(s), ratioName+"-vs-"+s.name)
		b.ReportMetric(figure(s)/bare, s.name+"-"+ratioName)
	}
}

// BenchmarkCallRoundTrip: one caller, a trivial call; every stack in turn,
// a block of calls at a time, so that all see the same broker conditions.
func BenchmarkCallRoundTrip(b *testing.B) {
	const block = 50 // calls between CPU samples, which cost some µs
	stacks := benchSetup(b)
	meter := newCPUMeter()
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		for _, s := range stacks {
			from := meter.sample()
			start := time.Now()
			for range n {
				if err := s.call(); err != nil {
					b.Fatal(err)
				}
			}
			s.time += time.Since(start)
			s.cpu.add(from, meter.sample())
		}
	}
	b.StopTimer()
	n := float64(b.N)
	report(b, stacks, n, meter, "ns/call", "latency-ratio",
		func(s *benchStack) float64 { return float64(s.time.Nanoseconds()) / n })
}

// BenchmarkCallThroughput16: 16 concurrent callers; b.N calls through each
// stack, in interleaved rounds so that all see the same broker conditions.
func BenchmarkCallThroughput16(b *testing.B) {
	benchThroughput(b, 16)
}

func benchThroughput(b *testing.B, callers int, extra ...echoDuties) {
	const rounds = 8
	stacks := benchSetup(b, extra...)
	meter := newCPUMeter()
	per := max(1, b.N/(callers*rounds))
	run := func(s *benchStack) {
		var wg sync.WaitGroup
		from := meter.sample()
		start := time.Now()
		for range callers {
			wg.Go(func() {
				for range per {
					if err := s.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		s.time += time.Since(start)
		s.cpu.add(from, meter.sample())
	}
	b.ResetTimer()
	for range rounds {
		for _, s := range stacks {
			run(s)
		}
	}
	b.StopTimer()
	calls := float64(per * callers * rounds)
	report(b, stacks, calls, meter, "calls/s", "throughput-ratio",
		func(s *benchStack) float64 { return calls / s.time.Seconds() })
}

// BenchmarkDutyCost prices each of oslo's protocol duties on its own: one
// caller and 16 callers through the bare floor plus one duty at a time, and
// plus those the other party sees (topology, properties, the server's ack
// before dispatch) without the ones that make a call survive a lost
// connection (confirms, the client's acks).
func BenchmarkDutyCost(b *testing.B) {
	each := []echoDuties{{topic: true}, {props: true}, {serverAck: true}, {clientAck: true},
		{reqConfirm: true}, {replyConfirm: true}, {topic: true, props: true, serverAck: true}}
	for _, callers := range []int{1, 16} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) { benchThroughput(b, callers, each...) })
	}
}

// BenchmarkDecodeRequest: decoding a karbor-style request (envelope,
// message, context).
func BenchmarkDecodeRequest(b *testing.B) {
	body := []byte(loadFixture(b, "request_call_topic.json").Body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeRequest(contentTypeJSON, nil, body, testMaxInflated); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeReply: encoding a dict result in its envelope.
func BenchmarkEncodeReply(b *testing.B) {
	result := []byte(`{"echo": {"a": 1, "b": "two", "c": [1, 2], "d": {"x": null}, "e": 1.5, "f": true}, "ctx_user_id": "u-1234"}`)
	msgID := []byte(`"2c92873ae95846cdb509f83ab586b3c3"`)
	for b.Loop() {
		_ = encodeReply(result, nil, true, msgID)
	}
}

// BenchmarkEncodeRequest: what our client does to a karbor-style call
// before publishing it (message, flattened context, envelope), with the
// context of the captured karbor-api request as Go values.
func BenchmarkEncodeRequest(b *testing.B) {
	req, err := decodeRequest(contentTypeJSON, nil, []byte(loadFixture(b, "request_call_topic.json").Body), testMaxInflated)
	if err != nil {
		b.Fatal(err)
	}
	reqCtx := map[string]any{}
	for _, m := range req.Context {
		var v any
		if err := json.Unmarshal(m.Value, &v); err != nil {
			b.Fatal(err)
		}
		reqCtx[m.Key] = v
	}
	target := Target{Topic: testTopic, Version: "1.0"}
	call := &callFields{msgID: newUniqueID(), replyQ: "reply_" + newUniqueID()}
	args := map[string]any{"provider_id": "cf56bd3e-97a7-4078-b6d5-f36246333fd9"}
	for b.Loop() {
		if _, err := encodeRequest("show_provider", args, target, reqCtx, call); err != nil {
			b.Fatal(err)
		}
	}
}
