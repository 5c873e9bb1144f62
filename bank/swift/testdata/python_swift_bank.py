"""What karbor's Python swift bank plugin does on the wire, with the same
libraries (keystoneauth1, python-swiftclient), for the Go plugin's
compatibility tests. It mirrors
karbor/services/protection/bank_plugins/swift_bank_plugin.py: objects with
the X-Object-Meta-Serialized header (json.dumps for non-strings), leases
as leases/<owner_id> with X-Delete-After.

usage: python_swift_bank.py '<json command>'; prints a JSON result.
Commands: {"op": "update", "key", "value"} {"op": "get", "key"}
{"op": "list", "prefix", "limit"?, "marker"?} {"op": "delete", "key"}
{"op": "lease", "owner", "expire"} {"op": "head_lease", "owner"}
The connection comes from the environment (KARBOR_TEST_KEYSTONE_*, and
SWIFT_BANK_CONTAINER for the container)."""
import json
import os
import sys

from keystoneauth1 import identity
from keystoneauth1 import session as keystone_session
from swiftclient import client as swift
from swiftclient import ClientException

env = os.environ
auth = identity.Password(
    auth_url=env['KARBOR_TEST_KEYSTONE_URL'], username=env['KARBOR_TEST_KEYSTONE_USER'],
    password=env['KARBOR_TEST_KEYSTONE_PASSWORD'], project_name=env['KARBOR_TEST_KEYSTONE_PROJECT'],
    project_domain_name='default', user_domain_name='default')
conn = swift.Connection(session=keystone_session.Session(auth=auth), retries=3, starting_backoff=2)
container = env['SWIFT_BANK_CONTAINER']
cmd = json.loads(sys.argv[1])
op = cmd['op']
try:
    if op == 'update':
        value, serialized = cmd['value'], False
        if not isinstance(value, str):
            value, serialized = json.dumps(value), True
        conn.put_container(container)
        conn.put_object(container, cmd['key'], value, headers={'x-object-meta-serialized': str(serialized)})
        out = {}
    elif op == 'get':
        resp, body = conn.get_object(container, cmd['key'])
        if resp.get('x-object-meta-serialized').lower() == 'true':
            body = json.loads(body)
        elif isinstance(body, bytes):
            body = body.decode()
        out = {'value': body}
    elif op == 'list':
        limit = cmd.get('limit')
        _, body = conn.get_container(container, prefix=cmd.get('prefix'), limit=limit,
                                     marker=cmd.get('marker'), full_listing=limit is None)
        out = {'names': [o.get('name') for o in body]}
    elif op == 'delete':
        conn.delete_object(container, cmd['key'])
        out = {}
    elif op == 'lease':
        conn.put_container('leases')
        conn.put_object('leases', cmd['owner'], cmd['owner'], headers={'X-Delete-After': str(cmd['expire'])})
        out = {}
    elif op == 'head_lease':
        h = conn.head_object('leases', cmd['owner'])
        out = {'delete_at': h.get('x-delete-at'), 'body': conn.get_object('leases', cmd['owner'])[1].decode()}
    else:
        raise SystemExit('unknown op ' + op)
except ClientException as e:
    out = {'error': str(e), 'status': e.http_status}
print(json.dumps(out))
