"""Capture real Nova, Cinder and Neutron bodies (Nova without a microversion,
as karbor's novaclient('2'); Cinder 3.43) for the unit-test fake of
providers/openstack/nova. usage: /usr/bin/python3 capture.py outdir

As the demo user it does what the plugin's protect reads and its restore
does: a network with a subnet, a key pair, an image, a volume; a server
booted from the image on the network, the volume attached; a server booted
from a volume made of the image, without networks; the error answers (404,
401, a bad floating IP); as admin, a flavor no host can hold, so that a
server goes to ERROR. Every body is saved as <name>.json; every status seen
while polling is recorded in sequences.json. Everything made is deleted."""
import json, os, sys, time, uuid
import requests

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
KS = 'http://127.0.0.1:5000/v3'


def token(user, pw, project):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': user, 'password': pw, 'domain': {'id': 'default'}}}},
                     'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}
    r = requests.post(KS + '/auth/tokens', json=body)
    r.raise_for_status()
    return r.headers['X-Subject-Token'], r.json()['token']['project']['id']


demo, pid = token('demo', 'password', 'demo')
adm, _ = token('admin', 'admin', 'admin')
NOVA = 'http://127.0.0.1:8774/v2.1/' + pid
CINDER = 'http://127.0.0.1:8776/v3/' + pid
GLANCE = 'http://127.0.0.1:9292/v2'
NEUTRON = 'http://127.0.0.1:9696/v2.0'
H = {'X-Auth-Token': demo}
CH = dict(H, **{'OpenStack-API-Version': 'volume 3.43'})
A = {'X-Auth-Token': adm}
u = uuid.uuid4().hex[:6]
seqs = {}
cleanups = []


def save(name, r):
    with open(os.path.join(out, name + '.json'), 'wb') as f:
        f.write(r.content)
    print(name, r.status_code, len(r.content))
    return r


def call(name, method, url, body=None, headers=H, ok=None):
    r = requests.request(method, url, json=body, headers=headers)
    if name:
        save(name, r)
    if ok and r.status_code not in ok:
        raise SystemExit('%s %s: %d %s' % (method, url, r.status_code, r.text))
    return r


def poll(name, url, key, until, headers=H, lower=False):
    seen = []
    for _ in range(1200):
        r = requests.get(url, headers=headers)
        st = 'not-found' if r.status_code == 404 else r.json()[key]['status']
        if not seen or seen[-1] != st:
            seen.append(st)
            if name:
                save('%s-%s' % (name, st), r)
        if st in until:
            break
        time.sleep(0.1)
    if name:
        seqs[name] = seen
    return st


try:
    # network, subnet, key pair, image, volume
    net = call(None, 'POST', NEUTRON + '/networks', {'network': {'name': 'karbor-capture-' + u}}, ok=[201]).json()['network']['id']
    cleanups.append(('DELETE', NEUTRON + '/networks/' + net, H))
    call(None, 'POST', NEUTRON + '/subnets', {'subnet': {'network_id': net, 'cidr': '10.98.%d.0/24' % (int(u, 16) % 250), 'ip_version': 4}}, ok=[201])
    kp = 'karbor-capture-' + u
    call(None, 'POST', NOVA + '/os-keypairs', {'keypair': {'name': kp}}, ok=[200])
    cleanups.append(('DELETE', NOVA + '/os-keypairs/' + kp, H))
    img = call(None, 'POST', GLANCE + '/images', {'name': 'karbor-capture-' + u, 'disk_format': 'raw', 'container_format': 'bare'}, ok=[201]).json()['id']
    cleanups.append(('DELETE', GLANCE + '/images/' + img, H))
    requests.put(GLANCE + '/images/%s/file' % img, data=b'\0' * 4096, headers=dict(H, **{'Content-Type': 'application/octet-stream'})).raise_for_status()
    vol = call(None, 'POST', CINDER + '/volumes', {'volume': {'size': 1, 'name': 'karbor-capture-' + u}}, headers=CH, ok=[202]).json()['volume']['id']
    cleanups.append(('DELETE', CINDER + '/volumes/' + vol, CH))
    poll(None, CINDER + '/volumes/' + vol, 'volume', {'available', 'error'}, headers=CH)
    flavor = [f for f in requests.get(NOVA + '/flavors', headers=H).json()['flavors'] if f['name'] == 'm1.tiny'][0]['id']

    # a server booted from the image on the network, with the volume
    body = {'server': {'name': 'karbor-capture-' + u, 'imageRef': img, 'flavorRef': flavor, 'min_count': 1, 'max_count': 1,
                       'key_name': kp, 'security_groups': [{'name': 'default'}], 'networks': [{'uuid': net}]}}
    srv = call('nova-server-create', 'POST', NOVA + '/servers', body, ok=[202]).json()['server']['id']
    cleanups.insert(0, ('DELETE', NOVA + '/servers/' + srv, H))
    if poll('nova-server', NOVA + '/servers/' + srv, 'server', {'ACTIVE', 'ERROR'}) != 'ACTIVE':
        raise SystemExit('server did not boot')
    call('nova-volume-attach', 'POST', NOVA + '/servers/%s/os-volume_attachments' % srv, {'volumeAttachment': {'volumeId': vol, 'device': '/dev/vdb'}}, ok=[200])
    poll('cinder-volume', CINDER + '/volumes/' + vol, 'volume', {'in-use', 'error'}, headers=CH)
    s = call('nova-server', 'GET', NOVA + '/servers/' + srv, ok=[200]).json()['server']
    mac = [a for addrs in s['addresses'].values() for a in addrs][0]['OS-EXT-IPS-MAC:mac_addr']
    call('neutron-ports-mac', 'GET', NEUTRON + '/ports?mac_address=' + mac, ok=[200])
    call('nova-add-floating-ip-bad', 'POST', NOVA + '/servers/%s/action' % srv, {'addFloatingIp': {'address': '192.0.2.1'}})
    call('nova-volume-attach-404', 'POST', NOVA + '/servers/%s/os-volume_attachments' % srv, {'volumeAttachment': {'volumeId': '00000000-0000-0000-0000-000000000000'}})

    # errors
    call('nova-server-404', 'GET', NOVA + '/servers/00000000-0000-0000-0000-000000000000')
    call('nova-server-401', 'GET', NOVA + '/servers/' + srv, headers={'X-Auth-Token': 'invalid'})
    call('cinder-volume-401', 'GET', CINDER + '/volumes/' + vol, headers={'X-Auth-Token': 'invalid', 'OpenStack-API-Version': 'volume 3.43'})
    call('neutron-ports-401', 'GET', NEUTRON + '/ports?mac_address=' + mac, headers={'X-Auth-Token': 'invalid'})
    call('nova-server-create-400', 'POST', NOVA + '/servers', {'server': {'name': 'x', 'imageRef': '', 'flavorRef': flavor}})

    # a server no host can hold
    big = call(None, 'POST', NOVA.rsplit('/', 1)[0] + '/flavors', {'flavor': {'name': 'karbor-capture-huge-' + u, 'ram': 64, 'vcpus': 1, 'disk': 1000000, 'os-flavor-access:is_public': True}}, headers=A, ok=[200]).json()['flavor']['id']
    cleanups.append(('DELETE', NOVA.rsplit('/', 1)[0] + '/flavors/' + big, A))
    body = {'server': {'name': 'karbor-capture-err-' + u, 'imageRef': img, 'flavorRef': big, 'min_count': 1, 'max_count': 1, 'networks': 'none'}}
    bad = call(None, 'POST', NOVA + '/servers', body, headers=dict(H, **{'X-OpenStack-Nova-API-Version': '2.37'}), ok=[202]).json()['server']['id']
    cleanups.insert(0, ('DELETE', NOVA + '/servers/' + bad, H))
    poll('nova-server-error', NOVA + '/servers/' + bad, 'server', {'ACTIVE', 'ERROR'})

    # a server booted from a volume made of the image, without networks
    bv = call(None, 'POST', CINDER + '/volumes', {'volume': {'size': 1, 'name': 'karbor-capture-boot-' + u, 'imageRef': img}}, headers=CH, ok=[202]).json()['volume']['id']
    cleanups.append(('DELETE', CINDER + '/volumes/' + bv, CH))
    if poll(None, CINDER + '/volumes/' + bv, 'volume', {'available', 'error'}, headers=CH) == 'available':
        body = {'server': {'name': 'karbor-capture-bfv-' + u, 'imageRef': '', 'flavorRef': flavor, 'min_count': 1, 'max_count': 1, 'networks': 'none',
                           'block_device_mapping_v2': [{'uuid': bv, 'source_type': 'volume', 'destination_type': 'volume', 'boot_index': 0, 'delete_on_termination': False}]}}
        bfv = call(None, 'POST', NOVA + '/servers', body, headers=dict(H, **{'X-OpenStack-Nova-API-Version': '2.37'}), ok=[202]).json()['server']['id']
        cleanups.insert(0, ('DELETE', NOVA + '/servers/' + bfv, H))
        poll('nova-server-bfv', NOVA + '/servers/' + bfv, 'server', {'ACTIVE', 'ERROR'})
        call('nova-server-bfv', 'GET', NOVA + '/servers/' + bfv)
        poll(None, CINDER + '/volumes/' + bv, 'volume', {'in-use', 'error'}, headers=CH)
        call('cinder-volume-boot', 'GET', CINDER + '/volumes/' + bv, headers=CH)
    else:
        print('a volume cannot be made from an image here: no boot-from-volume capture')

    # the delete of a server, until Nova answers 404
    call(None, 'DELETE', NOVA + '/servers/' + srv, ok=[204])
    poll('nova-server-deleting', NOVA + '/servers/' + srv, 'server', {'not-found'})
finally:
    for method, url, h in cleanups:
        r = requests.request(method, url, headers=h)
        if 'servers/' in url:
            for _ in range(600):
                if requests.get(url, headers=h).status_code == 404:
                    break
                time.sleep(0.1)
        if 'volumes/' in url:
            for _ in range(600):
                if requests.get(url, headers=h).status_code == 404:
                    break
                if requests.get(url, headers=h).json()['volume']['status'] in ('available', 'error'):
                    requests.delete(url, headers=h)
                time.sleep(0.2)
        print('cleanup', method, url, r.status_code)
    json.dump(seqs, open(os.path.join(out, 'sequences.json'), 'w'), indent=1, sort_keys=True)
