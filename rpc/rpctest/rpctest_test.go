package rpctest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestVhostLifecycle(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		u := Vhost(t)
		if !strings.HasPrefix(u, "rabbit://") {
			t.Fatalf("transport URL %q", u)
		}
		name = VhostOf(t, u)
		conn, err := amqp.Dial(AMQPURL(u))
		if err != nil {
			t.Fatalf("the AMQP user cannot open the vhost: %v", err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare("q", false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if qs := Queues(t, u); len(qs) != 1 || qs[0].Name != "q" {
			t.Fatalf("queues %+v", qs)
		}
		WaitConnections(t, u, 1, 30*time.Second)
		if n := CloseConnections(t, u); n != 1 {
			t.Fatalf("closed %d connections", n)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !conn.IsClosed() {
			if time.Now().After(deadline) {
				t.Fatal("the connection was not closed")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	if name == "" {
		t.Skip("no broker")
	}
	err := managementAPI(t).do(t.Context(), http.MethodGet, "/api/vhosts/"+url.PathEscape(name), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("vhost %s still there after the test: %v", name, err)
	}
}

func TestPythonDrivers(t *testing.T) {
	u := Vhost(t)
	spec := Spec{URL: u, Exchange: "x", Topic: "t", Server: "s"}
	srv := StartPythonServer(t, spec)
	cli := StartPythonClient(t, spec)
	out := cli.Do(t, PyCall{Method: "fail", Args: map[string]any{"provider_id": "p"}, Timeout: 30})
	if out.Exception == nil || !out.Exception.IsA("karbor.exception.ProviderNotFound") || out.Exception.Kwargs["code"] != float64(404) {
		t.Fatalf("outcome %+v", out.Exception)
	}
	out = cli.Do(t, PyCall{Method: "ret_str", Server: "s", Timeout: 30})
	if string(out.Result) != `"hello"` {
		t.Fatalf("result %s", out.Result)
	}
	srv.WaitEvent(t, func(ev PyEvent) bool { return ev.Method == "ret_str" }, 10*time.Second)
}
