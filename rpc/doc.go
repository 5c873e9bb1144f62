// Package rpc is oslo.messaging's "rabbit" driver in Go: an RPC server and
// client that interoperate on the same RabbitMQ broker with Python services
// and clients built on oslo.messaging 14 (kombu 5, py-amqp 5).
//
// What it covers, and where:
//
//   - transport URLs and the [oslo_messaging_rabbit] options (url.go,
//     options.go, connect.go);
//   - the queue and exchange topology, declared bit-identically to oslo so
//     that no party ever gets a 406 PRECONDITION_FAILED (topology.go);
//   - the double-encoded JSON envelope (compressed bodies inflated up to a
//     limit), the flattened request context and the reply format
//     (envelope.go, request.go, reply.go, jsonobj.go, jsonvalid.go);
//   - failures: Go errors with a Python face, serialized as oslo does, and
//     rebuilt on the client side (failure.go; Python's repr of the
//     arguments comes from [python.Repr]);
//   - dispatch by namespace and version, keyword-argument binding with
//     Python's TypeError texts (endpoint.go, dispatcher.go, args.go);
//   - the server: ack then dispatch, de-duplication, bounded handlers,
//     call-monitor heartbeats, reconnection and graceful stop (server.go,
//     session.go, handle.go, workers.go), and the bounded area where
//     replies wait for a missing reply queue without holding a handler
//     (undelivered.go);
//   - acks of a burst of deliveries settled with one basic.ack (acks.go);
//   - the client: call, cast, fanout cast, to one server (client.go).
//
// The package knows nothing of karbor: a caller gives its errors a Python
// face by implementing RemoteException.
package rpc
