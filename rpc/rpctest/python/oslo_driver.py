"""A real oslo.messaging client or server driven over stdin/stdout (JSON lines).

Usage: oslo_driver.py client|server '<spec json>'

spec: {"url": transport URL, "exchange": control exchange, "topic": topic,
       "server": server name (server mode), "allowed_remote_exmods": [...],
       "rpc_response_timeout": seconds}

client mode: each stdin line is a command
    {"id", "op": "call"|"cast", "method", "args", "context", "server",
     "fanout", "timeout", "version", "namespace", "call_monitor_timeout"}
  and gets one stdout line {"id", "result"} or {"id", "exception": {...}}.
  Commands run concurrently, each in its own thread.
server mode: serves the demo endpoints (the twin of the Go tests' demo
  endpoints) and writes {"event": "called", "method", "args", "context"} for
  every call or cast it dispatches. EOF on stdin stops either mode.
"""

import json
import logging
import os
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging as messaging

from karbor import exception as kexc

_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, default=repr)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def jsonable(value):
    return json.loads(json.dumps(value, default=repr))


def describe(exc):
    cls = type(exc)
    info = {
        "class": cls.__name__,
        "module": cls.__module__,
        "str": str(exc),
        "args": jsonable(list(exc.args)),
        "kwargs": jsonable(getattr(exc, "kwargs", None)),
        "is_remote_error": isinstance(exc, messaging.RemoteError),
        "is_timeout": isinstance(exc, messaging.MessagingTimeout),
        "mro": ["%s.%s" % (c.__module__, c.__name__) for c in cls.__mro__],
        "code": jsonable(getattr(exc, "code", None)),
        "msg": jsonable(getattr(exc, "msg", None)),
    }
    if isinstance(exc, messaging.RemoteError):
        info["exc_type"] = exc.exc_type
        info["value"] = exc.value
    return info


def make_transport(spec):
    # The global CONF: oslo.messaging registers some options (metrics) there
    # only.
    conf = cfg.CONF
    conf([], project="rpctest", default_config_files=[], default_config_dirs=[])
    transport = messaging.get_rpc_transport(
        conf, url=spec["url"],
        allowed_remote_exmods=spec.get("allowed_remote_exmods",
                                       ["karbor.exception"]))
    if spec.get("rpc_response_timeout"):
        conf.set_override("rpc_response_timeout", spec["rpc_response_timeout"])
    return transport


def run_client(spec):
    transport = make_transport(spec)
    target = messaging.Target(exchange=spec["exchange"], topic=spec["topic"])
    client = messaging.get_rpc_client(transport, target)

    def handle(cmd):
        prep = {}
        for key in ("server", "fanout", "timeout", "version", "namespace",
                    "call_monitor_timeout"):
            if cmd.get(key) not in (None, "", False, 0):
                prep[key] = cmd[key]
        cctx = client.prepare(**prep) if prep else client
        ctxt = cmd.get("context") or {}
        args = cmd.get("args") or {}
        try:
            if cmd.get("op", "call") == "cast":
                cctx.cast(ctxt, cmd["method"], **args)
                emit({"id": cmd["id"], "result": None})
            else:
                emit({"id": cmd["id"],
                      "result": cctx.call(ctxt, cmd["method"], **args)})
        except Exception as exc:  # every outcome goes back to the test
            emit({"id": cmd["id"], "exception": describe(exc)})

    emit({"ready": True})
    threads = []
    for line in sys.stdin:
        if not line.strip():
            continue
        t = threading.Thread(target=handle, args=(json.loads(line),))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    sys.stdout.flush()
    # transport.cleanup() waits up to 10 s for the reply poller; nothing
    # is left to deliver, so leave at once.
    os._exit(0)


class Endpoint(object):
    target = messaging.Target(version="1.0")

    def _event(self, ctxt, method, args):
        emit({"event": "called", "method": method, "args": args,
              "context": jsonable(ctxt)})

    def echo(self, ctxt, **kwargs):
        self._event(ctxt, "echo", kwargs)
        return {"echo": kwargs, "ctx_user_id": ctxt.get("user_id"),
                "ctx_request_id": ctxt.get("request_id")}

    def ret_none(self, ctxt):
        self._event(ctxt, "ret_none", {})
        return None

    def ret_str(self, ctxt):
        self._event(ctxt, "ret_str", {})
        return "hello"

    def ret_list(self, ctxt):
        self._event(ctxt, "ret_list", {})
        return [1, "two", 3.5, True, None, {"k": "v"}]

    def slow(self, ctxt, seconds):
        self._event(ctxt, "slow", {"seconds": seconds})
        time.sleep(seconds)
        return "slept %s" % seconds

    def fail(self, ctxt, provider_id):
        self._event(ctxt, "fail", {"provider_id": provider_id})
        raise kexc.ProviderNotFound(provider_id=provider_id)

    def fail_builtin(self, ctxt):
        self._event(ctxt, "fail_builtin", {})
        raise ValueError("bad value", 42)

    def fail_keyerror(self, ctxt):
        self._event(ctxt, "fail_keyerror", {})
        return {}["missing"]

    def _private(self, ctxt):
        return "never"


class OtherEndpoint(object):
    target = messaging.Target(namespace="other", version="2.3")

    def ns_echo(self, ctxt, x):
        emit({"event": "called", "method": "ns_echo", "args": {"x": x},
              "context": jsonable(ctxt)})
        return {"ns": "other", "x": x}


def run_server(spec):
    transport = make_transport(spec)
    target = messaging.Target(exchange=spec["exchange"], topic=spec["topic"],
                              server=spec["server"])
    server = messaging.get_rpc_server(transport, target,
                                      [Endpoint(), OtherEndpoint()],
                                      executor="threading")
    server.start()
    emit({"ready": True})
    for _ in sys.stdin:
        pass
    server.stop()
    server.wait()
    transport.cleanup()


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mode, spec = sys.argv[1], json.loads(sys.argv[2])
    {"client": run_client, "server": run_server}[mode](spec)


if __name__ == "__main__":
    main()
