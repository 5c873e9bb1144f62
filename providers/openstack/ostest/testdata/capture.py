"""Capture real response bodies for the Go unit-test fakes. usage: capture.py world.json outdir"""
import json, os, sys, urllib.parse
import requests
from keystoneauth1 import session
from keystoneauth1.identity import v3
world = json.load(open(sys.argv[1])); out = sys.argv[2]
os.makedirs(out, exist_ok=True)
KS = 'http://127.0.0.1:5000/v3'
def token(user, pw, project):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': user, 'password': pw, 'domain': {'id': 'default'}}}}}}
    if project:
        body['auth']['scope'] = {'project': {'name': project, 'domain': {'id': 'default'}}}
    r = requests.post(KS + '/auth/tokens', json=body)
    r.raise_for_status()
    return r.headers['X-Subject-Token'], r
routes = []
def save(name, method, url, r):
    u = urllib.parse.urlsplit(url)
    with open(os.path.join(out, name + '.json'), 'wb') as f:
        f.write(r.content)
    routes.append({'name': name, 'method': method, 'port': u.port, 'path': u.path, 'query': u.query,
                   'status': r.status_code, 'content_type': r.headers.get('Content-Type', '')})
    print(name, r.status_code, len(r.content))
demo_tok, r = token('demo', 'password', 'demo')
save('keystone-token-demo', 'POST', KS + '/auth/tokens', r)
_, r = token('karbor', 'password', 'service')
save('keystone-token-trustee', 'POST', KS + '/auth/tokens', r)
r = requests.post(KS + '/auth/tokens', json={'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': 'karbor', 'password': 'wrong', 'domain': {'id': 'default'}}}}}})
save('keystone-token-wrong-password', 'POST', KS + '/auth/tokens', r)
adm_tok, _ = token('admin', 'admin', 'admin')
trustee_tok, _ = token('karbor', 'password', 'service')
pid = world['project_id']
H = {'X-Auth-Token': demo_tok, 'X-Service-Token': trustee_tok}
def get(name, url, headers=H):
    r = requests.get(url, headers=headers)
    save(name, 'GET', url, r)
    return r
# keystone lookups as the trustee
get('keystone-services-volumev3', KS + '/services?name=cinderv3&type=volumev3', {'X-Auth-Token': trustee_tok})
svc = requests.get(KS + '/services?name=cinderv3&type=volumev3', headers={'X-Auth-Token': trustee_tok}).json()['services'][0]['id']
get('keystone-endpoints-volumev3', KS + '/endpoints?interface=internal&region_id=RegionOne&service_id=' + svc, {'X-Auth-Token': trustee_tok})
NV = 'http://127.0.0.1:8774/v2.1/' + pid
r = get('nova-servers-detail-page1', NV + '/servers/detail?limit=1')
get('nova-servers-detail-page2', r.json()['servers_links'][0]['href'])
get('nova-servers-detail', NV + '/servers/detail')
get('nova-server', NV + '/servers/' + world['server'])
get('nova-server-404', NV + '/servers/00000000-0000-0000-0000-000000000000')
get('nova-servers-401', NV + '/servers/detail', {'X-Auth-Token': 'gAAAAAinvalid'})
CV = 'http://127.0.0.1:8776/v3/' + pid
CH = dict(H, **{'OpenStack-API-Version': 'volume 3.43', 'X-OpenStack-Volume-API-Version': '3.43'})
r = get('cinder-volumes-detail-page1', CV + '/volumes/detail?limit=1', CH)
nxt = r.json()['volumes_links'][0]['href']
r = get('cinder-volumes-detail-page2', nxt, CH)
if r.json().get('volumes_links'):
    get('cinder-volumes-detail-page3', r.json()['volumes_links'][0]['href'], CH)
get('cinder-volumes-detail', CV + '/volumes/detail', CH)
for i, v in enumerate(world['volumes']):
    get('cinder-volume-%d' % (i + 1), CV + '/volumes/' + v, CH)
get('cinder-volume-404', CV + '/volumes/00000000-0000-0000-0000-000000000000', CH)
get('cinder-volumes-401', CV + '/volumes/detail', {'X-Auth-Token': 'gAAAAAinvalid', 'OpenStack-API-Version': 'volume 3.43'})
GL = 'http://127.0.0.1:9292'
r = get('glance-images-page1', GL + '/v2/images?limit=1')
n2 = r.json()['next']
r = get('glance-images-page2', GL + n2)
if 'next' in r.json():
    r = get('glance-images-page3', GL + r.json()['next'])
get('glance-images', GL + '/v2/images')
get('glance-image', GL + '/v2/images/' + world['images'][0])
get('glance-image-404', GL + '/v2/images/00000000-0000-0000-0000-000000000000')
get('glance-images-401', GL + '/v2/images', {'X-Auth-Token': 'gAAAAAinvalid'})
NT = 'http://127.0.0.1:9696'
get('neutron-networks-project', NT + '/v2.0/networks?limit=1&project_id=' + pid)
get('neutron-networks-empty', NT + '/v2.0/networks?limit=1&project_id=00000000000000000000000000000000')
get('neutron-networks-401', NT + '/v2.0/networks?limit=1&project_id=' + pid, {'X-Auth-Token': 'gAAAAAinvalid'})
json.dump({'world': world, 'routes': routes}, open(os.path.join(out, 'manifest.json'), 'w'), indent=1, sort_keys=True)
