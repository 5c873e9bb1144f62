package main_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// echo is the floor of the service benchmarks: a server answering each
// request on its queue with a body of the reply's size, and a client
// correlating replies by id. The server runs in a process of its own, as
// the service does, so both pay the same cross-process wake-ups. With duties
// it does what oslo must: requests through a topic exchange, oslo's message
// properties, both sides acking, requests and replies confirmed.
type echo struct {
	cli           *amqp.Channel
	exchange, key string
	repQ          string
	body          []byte
	duties        bool
	serverPID     int // the echo server's process
	waiting       replyWaiters
}

// echoServerEnv, when set in the environment of this test binary, makes it
// an echo server (see runEchoServer) instead of running tests.
const echoServerEnv = "KARBOR_BENCH_ECHO_SERVER"

// echoServerSpec is what the child echo server is told, as JSON in
// echoServerEnv.
type echoServerSpec struct {
	URL       string
	Queue     string
	Exchange  string
	ReplySize int
	Duties    bool
}

func randomID() string {
	var r [16]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

func startEcho(b *testing.B, url string, reqSize, replySize int, duties bool) *echo {
	b.Helper()
	spec := echoServerSpec{URL: rpctest.AMQPURL(url), Queue: "echo_" + randomID(), ReplySize: replySize, Duties: duties}
	if duties {
		spec.Exchange = "echo_topic"
	}
	pid := startEchoServer(b, spec)
	e := &echo{exchange: spec.Exchange, key: spec.Queue, body: make([]byte, reqSize), duties: duties, serverPID: pid}
	e.cli, e.repQ = floorClient(b, url, duties, e.takeReplies)
	return e
}

// floorClient opens the channel a floor's client calls on, in confirm
// mode and acking its replies when duties is set, with an exclusive reply
// queue whose deliveries go to takeReplies; all of it closes when the
// benchmark ends.
func floorClient(b *testing.B, url string, duties bool, takeReplies func(<-chan amqp.Delivery)) (*amqp.Channel, string) {
	b.Helper()
	conn, err := amqp.Dial(rpctest.AMQPURL(url))
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() {
		_ = conn.Close()
		wg.Wait()
	})
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if duties {
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	replies, err := ch.Consume(q.Name, "", !duties, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	wg.Go(func() { takeReplies(replies) })
	return ch, q.Name
}

// startEchoServer runs this test binary as the echo server of spec and
// returns its process id once its queue is consumed; the server stops when
// the benchmark ends (its stdin closes).
func startEchoServer(b *testing.B, spec echoServerSpec) int {
	b.Helper()
	raw, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoServerEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		b.Fatalf("echo server did not start: %q %v", line, err)
	}
	return cmd.Process.Pid
}

// runEchoServer is the child: it declares its queue (and topic exchange),
// answers every request until its stdin closes, and says "ready" on stdout
// once it consumes.
func runEchoServer(raw string) error {
	var spec echoServerSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return err
	}
	conn, err := amqp.Dial(spec.URL)
	if err != nil {
		return err
	}
	defer conn.Close()
	srv, err := conn.Channel()
	if err != nil {
		return err
	}
	pubConn, err := amqp.Dial(spec.URL)
	if err != nil {
		return err
	}
	defer pubConn.Close()
	pub, err := pubConn.Channel()
	if err != nil {
		return err
	}
	if _, err := srv.QueueDeclare(spec.Queue, false, true, false, false, nil); err != nil {
		return err
	}
	if spec.Duties {
		if err := srv.ExchangeDeclare(spec.Exchange, amqp.ExchangeTopic, false, true, false, false, nil); err != nil {
			return err
		}
		if err := srv.QueueBind(spec.Queue, spec.Queue, spec.Exchange, false, nil); err != nil {
			return err
		}
		if err := pub.Confirm(false); err != nil {
			return err
		}
	}
	requests, err := srv.Consume(spec.Queue, "", !spec.Duties, false, false, false, nil)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = conn.Close()
	}()
	replyBody := make([]byte, spec.ReplySize)
	var confirms sync.WaitGroup
	defer confirms.Wait()
	for d := range requests {
		msg := publishing(spec.Duties, replyBody, d.CorrelationId)
		if !spec.Duties {
			_ = pub.Publish("", d.ReplyTo, false, false, msg)
			continue
		}
		_ = d.Ack(false)
		confirms.Go(func() {
			if dc, err := pub.PublishWithDeferredConfirm("", d.ReplyTo, true, false, msg); err == nil {
				<-dc.Done()
			}
		})
	}
	return nil
}

func (e *echo) takeReplies(replies <-chan amqp.Delivery) {
	for d := range replies {
		if e.duties {
			_ = d.Ack(false)
		}
		e.waiting.wake(d.CorrelationId)
	}
}

func publishing(duties bool, body []byte, id string) amqp.Publishing {
	msg := amqp.Publishing{CorrelationId: id, Body: body}
	if duties {
		msg.ContentType, msg.ContentEncoding, msg.DeliveryMode = "application/json", "utf-8", amqp.Persistent
		msg.Headers = amqp.Table{}
	}
	return msg
}

func (e *echo) call() error {
	id := randomID()
	done := e.waiting.add(id)
	msg := publishing(e.duties, e.body, id)
	msg.ReplyTo = e.repQ
	if e.duties {
		msg.Expiration = "60000"
	}
	dc, err := e.cli.PublishWithDeferredConfirm(e.exchange, e.key, false, false, msg)
	if err != nil {
		return err
	}
	return awaitReply(done, dc, id)
}

// replyWaiters are the calls of a floor's client waiting for their reply,
// by id.
type replyWaiters struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// add registers a call; the channel is closed when its reply comes.
func (w *replyWaiters) add(id string) <-chan struct{} {
	done := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = map[string]chan struct{}{}
	}
	w.waiting[id] = done
	return done
}

// wake hands a reply to its call, if one waits for it.
func (w *replyWaiters) wake(id string) {
	w.mu.Lock()
	done := w.waiting[id]
	delete(w.waiting, id)
	w.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// awaitReply waits for a call's reply, then for its request's confirm
// (nil without confirms).
func awaitReply(done <-chan struct{}, dc *amqp.DeferredConfirmation, id string) error {
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no reply to %s", id)
	}
	if dc != nil {
		<-dc.Done()
	}
	return nil
}

// rawCaller drives the service the way the all-duties echo's client drives
// the echo server: one channel in confirm mode, requests through the topic
// exchange with oslo's properties, an exclusive reply queue whose replies
// it acks, a waiter per call. Its request body is encoded once, as oslo
// encodes it, and each call writes a fresh _msg_id and _unique_id into a
// copy; replies are matched on their _msg_id. With a client that costs
// what the echo's does, what remains of a difference is the service's own
// work and the broker's.
type rawCaller struct {
	ch                  *amqp.Channel
	exchange, key       string
	body                []byte
	msgIDAt, uniqueIDAt int
	waiting             replyWaiters
}

func startRawCaller(b *testing.B, url, exchange, topic, method string, args, reqCtx map[string]any) *rawCaller {
	b.Helper()
	r := &rawCaller{exchange: exchange, key: topic}
	var replyQ string
	r.ch, replyQ = floorClient(b, url, true, r.takeReplies)
	const msgIDSlot, uniqueIDSlot = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	msg := map[string]any{"method": method, "args": args, "version": "1.0",
		"_msg_id": msgIDSlot, "_reply_q": replyQ, "_timeout": nil, "_unique_id": uniqueIDSlot}
	for k, v := range reqCtx {
		msg["_context_"+k] = v
	}
	inner, err := json.Marshal(msg)
	if err != nil {
		b.Fatal(err)
	}
	text, err := json.Marshal(string(inner))
	if err != nil {
		b.Fatal(err)
	}
	r.body = append(append([]byte(`{"oslo.version": "2.0", "oslo.message": `), text...), '}')
	r.msgIDAt = bytes.Index(r.body, []byte(msgIDSlot))
	r.uniqueIDAt = bytes.Index(r.body, []byte(uniqueIDSlot))
	return r
}

// replyMsgID is where a reply's _msg_id starts in its body (escaped inside
// the envelope's string).
var replyMsgID = []byte(`\"_msg_id\": \"`)

func (r *rawCaller) takeReplies(replies <-chan amqp.Delivery) {
	for d := range replies {
		_ = d.Ack(false)
		var id string
		if at := bytes.Index(d.Body, replyMsgID); at >= 0 && at+len(replyMsgID)+32 <= len(d.Body) {
			id = string(d.Body[at+len(replyMsgID) : at+len(replyMsgID)+32])
		}
		r.waiting.wake(id)
	}
}

func (r *rawCaller) call() error {
	id := randomID()
	done := r.waiting.add(id)
	body := bytes.Clone(r.body)
	copy(body[r.msgIDAt:], id)
	copy(body[r.uniqueIDAt:], randomID())
	msg := publishing(true, body, "")
	msg.Expiration = "60000"
	dc, err := r.ch.PublishWithDeferredConfirm(r.exchange, r.key, false, false, msg)
	if err != nil {
		return err
	}
	return awaitReply(done, dc, id)
}
