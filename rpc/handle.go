package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// unroutableRetryEvery is oslo's pause between reply attempts to a missing
// reply queue (undelivered.go).
const unroutableRetryEvery = 250 * time.Millisecond

// handle runs one request (already acked), and sends its reply if a reply
// is due; oslo's RPCServer._process_incoming.
func (s *Server) handle(rt *runState, req *request) {
	// The request's entry is built only if a line is logged.
	lazy := logctx.WithLazy(rt.hctx, func() *logrus.Entry { return requestLog(rt.log, req) })
	log := lazy.Entry
	var ctx context.Context = lazy
	var stopHeartbeats func()
	if req.WantsReply() {
		if every := req.heartbeatInterval(); every > 0 {
			stopHeartbeats = s.startHeartbeats(ctx, rt, req, every, log())
		}
	}
	obs := s.cfg.Observer
	var start time.Time
	if obs != nil {
		start = time.Now()
	}
	body, method, outcome := s.respond(ctx, req, log)
	if obs != nil {
		obs.CallDone(method, outcome, time.Since(start))
	}
	if stopHeartbeats != nil {
		stopHeartbeats() // no heartbeat may follow the final reply
	}
	if body != nil {
		// Not ctx: a handler cancelled at shutdown still gets its reply out.
		// The reply's lines go through log, so its context carries none.
		s.sendReply(rt.rctx, rt, req, body, log)
	}
}

// respond dispatches req and builds its reply body; nil when no reply is
// due (casts never get one, even on error). log gives the request's
// entry; method is the endpoint method called ("" when none was found) and
// outcome "ok" or the class of the exception the caller gets
// (Observer.CallDone).
func (s *Server) respond(ctx context.Context, req *request, log func() *logrus.Entry) (body []byte, method, outcome string) {
	var (
		call   *Call
		result any
		err    = req.Undecodable
		raw    []byte
	)
	if err == nil {
		call, result, err = s.disp.dispatch(ctx, req)
	}
	if err == nil {
		var merr error
		if raw, merr = EncodeJSON(result); merr != nil {
			log().WithError(merr).Error("Cannot encode the result")
			err = NewTypeError(fmt.Sprintf("Object of type %T is not JSON serializable", result))
		}
	}
	if call != nil {
		method = call.Method
	}
	if err != nil {
		logFailure(log(), err)
	}
	if err == nil {
		if !req.WantsReply() {
			return nil, method, outcomeOK
		}
		return encodeReply(raw, nil, true, req.MsgID), method, outcomeOK
	}
	where := "RPCDispatcher.dispatch"
	if call != nil {
		where = call.Class + "." + call.Method
	}
	if !req.WantsReply() {
		return nil, method, exceptionClass(err)
	}
	f := failureFor(err, where)
	fj, ferr := encodeFailure(f)
	if ferr != nil { // cannot happen: every member is text or pre-encoded JSON
		log().WithError(ferr).Error("Cannot encode the failure")
		return nil, method, f.Class
	}
	return encodeReply(nil, fj, true, req.MsgID), method, f.Class
}

// outcomeOK is the outcome of a call that did not fail (Observer.CallDone).
const outcomeOK = "ok"

// logFailure logs a failed request as oslo's RPCServer._process_incoming
// does: at ERROR ("Exception during message handling", LOG.exception) for
// everything oslo or the interpreter raises (NoSuchMethod, TypeError, a
// panic...), at DEBUG for a NoSuchMethod of a method named *_ignore_errors.
// The application's own exceptions (karbor.exception) go at INFO: karbor
// declares most of them expected (DEBUG in oslo, below the INFO that
// oslo.messaging's loggers are held at) and the rest are ERROR, which the
// endpoint does not tell us apart.
func logFailure(log *logrus.Entry, err error) {
	var pe *PanicError
	var re RemoteException
	switch {
	case errors.As(err, &pe):
		log.WithField("stack", string(pe.Stack)).Errorf("Exception during message handling: %v", pe)
	case errors.As(err, &re):
		log := log.WithFields(logrus.Fields{"exc_module": re.PythonModule(), "exc_class": re.PythonClass()})
		switch module := re.PythonModule(); {
		case module == DispatcherModule && re.PythonClass() == "NoSuchMethod" && strings.HasSuffix(re.Error(), "_ignore_errors"):
			log.Debugf("Method not found: %v", err)
		case module == BuiltinsModule, strings.HasPrefix(module, "oslo_messaging"), strings.HasPrefix(module, "kombu."):
			log.Errorf("Exception during message handling: %v", err)
		default:
			log.Infof("Exception during message handling: %v", err)
		}
	default:
		log.WithError(err).Error("Exception during message handling")
	}
}

// dropped tells the observer a reply due was never delivered.
func (s *Server) dropped(reason string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.ReplyDropped(reason)
	}
}

// noHeaders is the empty header table of every request and reply,
// shared: nothing writes into a publishing's table (compression makes a
// new one).
var noHeaders = amqp.Table{}

// replyPublishing is the AMQP message of a reply, with the properties oslo
// puts on every message.
func replyPublishing(body []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:     contentTypeJSON,
		ContentEncoding: contentEncodingUTF8,
		DeliveryMode:    amqp.Persistent,
		Priority:        0,
		Headers:         noHeaders,
		Body:            body,
	}
}

// sendReply publishes a reply to _reply_q through the default exchange,
// mandatory, as oslo's AMQPIncomingMessage.reply. A missing queue is
// retried every 0.25 s for kombu_missing_consumer_retry_timeout, then the
// queue is remembered as obsolete, as oslo does; but those retries happen in
// the undelivered-replies area, so that the handler's slot is free at once.
// A lost connection is retried on a new one until the server's replies are
// abandoned at shutdown.
func (s *Server) sendReply(ctx context.Context, rt *runState, req *request, body []byte, log func() *logrus.Entry) {
	queue, ok := req.ReplyQueue()
	if !ok {
		log().Warn("call without a usable _reply_q; reply dropped")
		s.dropped(DropNoReplyQueue)
		return
	}
	if s.obsolete.contains(queue) {
		log().Warnf("%s doesn't exist, drop reply to %s", queue, req.MsgIDText())
		s.dropped(DropQueueMissing)
		return
	}
	window := s.opts.KombuMissingConsumerRetryTimeout
	giveUp := time.Now().Add(window)
	pub := publishing{key: queue, mandatory: s.opts.DirectMandatoryFlag, msg: replyPublishing(body)}
	for attempt := 1; ; attempt++ {
		err := rt.pub.publishWithin(ctx, pub, max(window, time.Second))
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			log().WithError(err).Error("reply not sent: the server is stopping")
			s.dropped(DropStopping)
			return
		case errors.Is(err, ErrUnroutable):
			if attempt == 1 && s.cfg.Observer != nil {
				s.cfg.Observer.ReplyUnroutable()
			}
			if time.Now().After(giveUp) {
				s.obsolete.add(queue)
				log().Errorf("The reply %s failed to send after %d seconds due to a missing queue (%s). Abandoning...",
					req.MsgIDText(), int(window.Seconds()), queue)
				s.dropped(DropQueueMissing)
				return
			}
			s.deferReply(rt, &undeliveredReply{queue: queue, msgID: req.MsgIDText(), pub: pub, giveUp: giveUp, log: log()})
			return
		case errors.Is(err, ErrBlocked), errors.Is(err, context.DeadlineExceeded):
			log().WithError(err).Error("reply not sent within the retry window; abandoning")
			s.dropped(DropTimeout)
			return
		default:
			delay := backoff(&s.opts, attempt)
			log().WithError(err).Warnf("reply not sent; retrying in %s", delay)
			sleepCtx(ctx, delay)
		}
	}
}

// startHeartbeats sends call-monitor heartbeats (result null, failure null,
// ending false) every interval until the returned stop function is called;
// stop returns once no heartbeat can be sent any more.
func (s *Server) startHeartbeats(ctx context.Context, rt *runState, req *request, every time.Duration, log *logrus.Entry) (stop func()) {
	queue, ok := req.ReplyQueue()
	if !ok {
		return func() {}
	}
	hctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			body := encodeReply(nil, nil, false, req.MsgID)
			err := rt.pub.publish(hctx, publishing{key: queue, mandatory: s.opts.DirectMandatoryFlag, msg: replyPublishing(body)})
			if err != nil {
				if hctx.Err() == nil {
					log.WithError(err).Debug("Call-monitor heartbeat failed")
				}
				return
			}
			log.Debug("Sent call-monitor heartbeat")
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
