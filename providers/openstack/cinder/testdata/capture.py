"""Capture real Cinder bodies (microversion 3.43, as karbor) for the unit-test
fake of providers/openstack/cinder. usage: /usr/bin/python3 capture.py outdir

Runs, as the demo user, what the plugins do: a volume, a snapshot, a backup
from it, a restore, the deletes; as admin, it resets statuses to error to
capture the error bodies. Every body is saved as <name>.json; every status
seen while polling is recorded in sequences.json."""
import json, os, sys, time
import requests

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
KS = 'http://127.0.0.1:5000/v3'
CINDER = 'http://127.0.0.1:8776/v3'
MV = {'OpenStack-API-Version': 'volume 3.43'}


def token(user, pw, project):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': user, 'password': pw, 'domain': {'id': 'default'}}}},
                     'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}
    r = requests.post(KS + '/auth/tokens', json=body)
    r.raise_for_status()
    return r.headers['X-Subject-Token'], r.json()['token']['project']['id']


demo, pid = token('demo', 'password', 'demo')
adm, _ = token('admin', 'admin', 'admin')
H = dict(MV, **{'X-Auth-Token': demo})
A = dict(MV, **{'X-Auth-Token': adm})
base = '%s/%s' % (CINDER, pid)
seqs = {}


def save(name, r):
    with open(os.path.join(out, name + '.json'), 'wb') as f:
        f.write(r.content)
    print(name, r.status_code, len(r.content))
    return r


def call(name, method, path, body=None, headers=H):
    r = requests.request(method, base + path, json=body, headers=headers)
    if name:
        save(name, r)
    return r


def poll(name, path, key, until, first=None):
    seen = []
    for _ in range(600):
        r = requests.get(base + path, headers=H)
        st = 'not-found' if r.status_code == 404 else r.json()[key]['status']
        if not seen or seen[-1] != st:
            seen.append(st)
            save('%s-%s' % (name, st), r)
        if st in until:
            break
        time.sleep(0.1)
    seqs[name] = seen
    return st


vol = call('volume-create', 'POST', '/volumes', {'volume': {'size': 1, 'name': 'karbor-capture-vol'}}).json()['volume']['id']
poll('volume', '/volumes/' + vol, 'volume', {'available', 'error'})
snap = call('snapshot-create', 'POST', '/snapshots', {'snapshot': {'volume_id': vol, 'force': True}}).json()['snapshot']['id']
poll('snapshot', '/snapshots/' + snap, 'snapshot', {'available', 'error'})
bk = call('backup-create', 'POST', '/backups', {'backup': {'volume_id': vol, 'name': 'karbor-capture-backup', 'description': None, 'force': False, 'snapshot_id': snap, 'incremental': False, 'container': None}}).json()['backup']['id']
poll('backup', '/backups/' + bk, 'backup', {'available', 'error'})
call('snapshot-delete', 'DELETE', '/snapshots/' + snap)
poll('snapshot-deleting', '/snapshots/' + snap, 'snapshot', {'not-found', 'error_deleting'})
rs = call('backup-restore', 'POST', '/backups/%s/restore' % bk, {'restore': {}}).json()['restore']
call('volume-update', 'PUT', '/volumes/' + rs['volume_id'], {'volume': {'name': 'karbor-capture-restored', 'description': 'restored'}})
poll('restored', '/volumes/' + rs['volume_id'], 'volume', {'available', 'error'})
poll('backup-after-restore', '/backups/' + bk, 'backup', {'available', 'error'})
call('volume-from-snapshot-missing', 'POST', '/volumes', {'volume': {'size': 1, 'snapshot_id': '00000000-0000-0000-0000-000000000000'}})
call('volume-404', 'GET', '/volumes/00000000-0000-0000-0000-000000000000')
call('snapshot-404', 'GET', '/snapshots/00000000-0000-0000-0000-000000000000')
call('backup-404', 'GET', '/backups/00000000-0000-0000-0000-000000000000')
call('backup-delete-404', 'DELETE', '/backups/00000000-0000-0000-0000-000000000000')
call('backup-restore-404', 'POST', '/backups/00000000-0000-0000-0000-000000000000/restore', {'restore': {}})
call('volume-401', 'GET', '/volumes/' + vol, headers=dict(MV, **{'X-Auth-Token': 'invalid'}))
# error statuses, set by the admin
call(None, 'POST', '/volumes/%s/action' % rs['volume_id'], {'os-reset_status': {'status': 'error'}}, headers=A)
call('volume-error', 'GET', '/volumes/' + rs['volume_id'])
# Cinder accepts a backup of a volume reset to error: it is made, then
# removed with the rest.
eb = call('backup-create-volume-error', 'POST', '/backups', {'backup': {'volume_id': rs['volume_id']}}).json()['backup']['id']
call('snapshot-create-volume-error', 'POST', '/snapshots', {'snapshot': {'volume_id': rs['volume_id'], 'force': True}})
call(None, 'POST', '/backups/%s/action' % bk, {'os-reset_status': {'status': 'error'}}, headers=A)
call('backup-error', 'GET', '/backups/' + bk)
call(None, 'POST', '/backups/%s/action' % bk, {'os-reset_status': {'status': 'available'}}, headers=A)
call('backup-delete', 'DELETE', '/backups/' + bk)
poll('backup-deleting', '/backups/' + bk, 'backup', {'not-found', 'error_deleting', 'error'})
poll('error-volume-backup', '/backups/' + eb, 'backup', {'available', 'error'})
call(None, 'DELETE', '/backups/' + eb)
poll('error-volume-backup-deleting', '/backups/' + eb, 'backup', {'not-found', 'error_deleting'})
call('volume-delete', 'DELETE', '/volumes/' + rs['volume_id'])
poll('restored-deleting', '/volumes/' + rs['volume_id'], 'volume', {'not-found', 'error_deleting'})
call(None, 'DELETE', '/volumes/' + vol)
poll('volume-deleting', '/volumes/' + vol, 'volume', {'not-found', 'error_deleting'})
json.dump(seqs, open(os.path.join(out, 'sequences.json'), 'w'), indent=1, sort_keys=True)
