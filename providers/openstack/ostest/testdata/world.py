"""Create a small world as demo (image, 2 volumes, network, server with a volume) and print ids as JSON."""
import json, os, sys, time
from keystoneauth1 import session
from keystoneauth1.identity import v3
s = session.Session(auth=v3.Password(auth_url='http://127.0.0.1:5000/v3', username='demo', password='password',
    project_name='demo', user_domain_id='default', project_domain_id='default'))
ep = lambda t: s.get_endpoint(service_type=t, interface='public')
gl, cv, nv, nt = ep('image'), ep('volumev3'), ep('compute'), ep('network')
H = {'OpenStack-API-Version': 'volume 3.43'}
def wait(fn, ok, bad=('error', 'ERROR', 'killed'), timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        st = fn()
        if st in ok: return st
        if st in bad: sys.exit('bad status %s' % st)
        time.sleep(0.5)
    sys.exit('timeout')
out = {'project_id': s.get_project_id()}
imgs = []
for n in ('capture-img-1', 'capture-img-2'):
    img = s.post(gl + '/v2/images', json={'name': n, 'disk_format': 'raw', 'container_format': 'bare'}).json()
    s.put(gl + '/v2/images/%s/file' % img['id'], data=b'x' * 1024, headers={'Content-Type': 'application/octet-stream'})
    wait(lambda: s.get(gl + '/v2/images/' + img['id']).json()['status'], ('active',))
    imgs.append(img['id'])
out['images'] = imgs
vols = []
for n in ('capture-vol-1', 'capture-vol-2'):
    v = s.post(cv + '/volumes', json={'volume': {'size': 1, 'name': n}}, headers=H).json()['volume']
    wait(lambda: s.get(cv + '/volumes/' + v['id'], headers=H).json()['volume']['status'], ('available',))
    vols.append(v['id'])
out['volumes'] = vols
net = s.post(nt + '/v2.0/networks', json={'network': {'name': 'capture-net'}}).json()['network']
out['network'] = net['id']
fl = [f for f in s.get(nv + '/flavors').json()['flavors'] if f['name'] == 'm1.tiny'][0]
srv = s.post(nv + '/servers', json={'server': {'name': 'capture-srv', 'imageRef': imgs[0], 'flavorRef': fl['id'], 'networks': 'none'}},
             headers={'X-OpenStack-Nova-API-Version': '2.37'}).json()['server']
wait(lambda: s.get(nv + '/servers/' + srv['id']).json()['server']['status'], ('ACTIVE',))
out['server'] = srv['id']
s.post(nv + '/servers/%s/os-volume_attachments' % srv['id'], json={'volumeAttachment': {'volumeId': vols[0]}})
wait(lambda: s.get(cv + '/volumes/' + vols[0], headers=H).json()['volume']['status'], ('in-use',))
print(json.dumps(out))
