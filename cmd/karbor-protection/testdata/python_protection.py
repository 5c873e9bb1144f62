"""A stand-in for the Python karbor-protection service, on the bank and the
database only: what it writes there is what the Python service writes, in
the same order and the same formats.

- karbor/service.py start and report_state: the services row of its host
  (found, or created as service_create does), then report_count + 1 every
  report_interval seconds, which bumps updated_at.
- karbor/services/protection/bank_plugins/file_system_bank_plugin.py: one
  random owner id per plugin and NO lease; objects are written in place
  (open(path, "w")), dicts as jsonutils.dumps (json.dumps) text, strings as
  they are; directories made with umask 022.
- karbor/services/protection/checkpoint.py create_in_section: index.json,
  then the by-provider, by-date and by-plan index keys; the protect flow
  builder then adds resource_graph and commits the whole cached dict, and
  the flow's tasks commit it again with each status.
- karbor/services/protection/flows/utils.py: the operation_logs row of the
  protect (status = the checkpoint's), updated to available with ended_at.

Usage: python_protection.py CONFIG.json. It creates the checkpoints the
configuration asks for, prints "created <id>" for each and then "ready", and
reads commands on standard input: "finish <id>" protects that checkpoint to
available (printing "finished <id>"), "quit" exits. It never ends a
checkpoint on its own: a long protect, as long as the test wants.
"""

import datetime
import json
import os
import sys
import threading
import time
import uuid

import pymysql

BINARY = "karbor-protection"


def utcnow():
    # oslo_utils.timeutils.utcnow(): naive UTC, microseconds (MySQL keeps
    # whole seconds).
    return datetime.datetime.utcnow()


class Database(object):
    def __init__(self, conf):
        self.conn = pymysql.connect(host=conf["host"], port=conf["port"], user=conf["user"],
                                    password=conf["password"], database=conf["database"],
                                    autocommit=True, charset="utf8")
        self.lock = threading.Lock()

    def execute(self, sql, args=()):
        with self.lock:
            with self.conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()


class Service(object):
    """karbor.service.Service: the services row and its heartbeat."""

    def __init__(self, db, host, report_interval):
        self.db, self.host, self.report_interval = db, host, report_interval
        rows = self.db.execute("SELECT id FROM services WHERE host = %s AND `binary` = %s AND deleted = 0",
                               (host, BINARY))
        if rows:
            self.service_id = rows[0][0]
        else:
            self.create()

    def create(self):
        # service_create: the ORM sets created_at and deleted; disabled is
        # "not enable_new_services".
        self.db.execute("INSERT INTO services (created_at, deleted, host, `binary`, topic, report_count, disabled) "
                        "VALUES (%s, 0, %s, %s, %s, 0, 0)", (utcnow(), self.host, BINARY, BINARY))
        self.service_id = self.db.execute("SELECT LAST_INSERT_ID()")[0][0]

    def report_state(self):
        rows = self.db.execute("SELECT report_count FROM services WHERE id = %s AND deleted = 0", (self.service_id,))
        if not rows:
            self.create()
            rows = [(0,)]
        self.db.execute("UPDATE services SET updated_at = %s, report_count = %s WHERE id = %s",
                        (utcnow(), rows[0][0] + 1, self.service_id))

    def heartbeat(self):
        # FixedIntervalLoopingCall(initial_delay=report_interval)
        while True:
            time.sleep(self.report_interval)
            self.report_state()


class FileSystemBank(object):
    def __init__(self, path, container):
        self.container_path = "/".join([path, container])
        for d in (path, self.container_path):
            self.makedirs(d)
        self.owner_id = str(uuid.uuid4())

    @staticmethod
    def makedirs(path):
        old = os.umask(0o022)
        try:
            os.makedirs(path, exist_ok=True)
        finally:
            os.umask(old)

    def update_object(self, key, value):
        if not isinstance(value, str):
            value = json.dumps(value)
        self.makedirs(self.container_path + key.rsplit("/", 1)[0])
        with open(self.container_path + key, "w") as f:
            f.write(value)


class Protection(object):
    def __init__(self, conf):
        self.conf = conf
        self.db = Database(conf["database"])
        self.service = Service(self.db, conf["host"], conf["report_interval"])
        self.bank = FileSystemBank(conf["bank_path"], conf.get("container", "karbor"))
        self.checkpoints = {}  # id -> (cached index.json dict, operation log id)

    def create(self, plan):
        cid = str(uuid.uuid4())
        now = utcnow()
        timestamp = int(time.time())
        created_at = now.strftime("%Y-%m-%d")
        md = {
            "version": "0.9",
            "id": cid,
            "status": "protecting",
            "owner_id": self.bank.owner_id,
            "provider_id": plan["provider_id"],
            "project_id": plan["project_id"],
            "protection_plan": {
                "id": plan["id"],
                "name": plan["name"],
                "provider_id": plan["provider_id"],
                "resources": plan["resources"],
            },
            "extra_info": "{\"created_by\": \"manual\"}",
            "created_at": created_at,
            "timestamp": timestamp,
        }
        prefix = "/checkpoints/" + cid
        self.bank.update_object(prefix + "/index.json", md)
        project, provider = plan["project_id"], plan["provider_id"]
        self.bank.update_object("/indices/by-provider/%s/%s/%s@%s" % (provider, project, timestamp, cid), cid)
        self.bank.update_object("/indices/by-date/%s/%s/%s@%s" % (created_at, project, timestamp, cid), cid)
        self.bank.update_object("/indices/by-plan/%s/%s/%s/%s@%s" % (plan["id"], project, created_at, timestamp, cid),
                                cid)
        # The flow builder: resource graph, commit, operation log.
        nodes = {}
        for i, r in enumerate(plan["resources"]):
            nodes["0x%x" % i] = [r["type"], r["id"], r["name"], None]
        md["resource_graph"] = json.dumps([nodes, []])
        self.bank.update_object(prefix + "/index.json", md)
        log_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO operation_logs (created_at, deleted, id, project_id, operation_type, checkpoint_id, "
            "plan_id, provider_id, status, started_at) VALUES (%s, 0, %s, %s, 'protect', %s, %s, %s, %s, %s)",
            (utcnow(), log_id, project, cid, plan["id"], provider, "protecting", utcnow()))
        # InitiateProtectTask: the same status again (no change, so the
        # ORM writes no row update).
        self.bank.update_object(prefix + "/index.json", md)
        self.checkpoints[cid] = (md, log_id)
        return cid

    def finish(self, cid):
        # CompleteProtectTask
        md, log_id = self.checkpoints[cid]
        md["status"] = "available"
        self.bank.update_object("/checkpoints/" + cid + "/index.json", md)
        now = utcnow()
        self.db.execute("UPDATE operation_logs SET updated_at = %s, status = 'available', ended_at = %s WHERE id = %s",
                        (now, now, log_id))


def main():
    with open(sys.argv[1]) as f:
        conf = json.load(f)
    p = Protection(conf)
    threading.Thread(target=p.service.heartbeat, daemon=True).start()
    for _ in range(conf["checkpoints"]):
        print("created " + p.create(conf["plan"]), flush=True)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words == ["quit"]:
            return
        if len(words) == 2 and words[0] == "finish":
            p.finish(words[1])
            print("finished " + words[1], flush=True)


if __name__ == "__main__":
    main()
