"""Capture real Neutron bodies for the unit-test fake of
providers/openstack/neutron. usage: /usr/bin/python3 capture.py outdir

As the demo user it builds a small topology (two networks, a subnet, a
router with an interface and, when an external network exists, a gateway,
a security group with rules, a port) and saves what the plugin reads and
what its restore calls answer; then it removes everything. Every body is
saved as <name>.json."""
import json, os, sys
import requests

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
KS = 'http://127.0.0.1:5000/v3'
NT = 'http://127.0.0.1:9696/v2.0'


def token(user, pw, project):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': user, 'password': pw, 'domain': {'id': 'default'}}}},
                     'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}
    r = requests.post(KS + '/auth/tokens', json=body)
    r.raise_for_status()
    return r.headers['X-Subject-Token'], r.json()['token']['project']['id']


demo, pid = token('demo', 'password', 'demo')
H = {'X-Auth-Token': demo}
undo = []


def save(name, r):
    with open(os.path.join(out, name + '.json'), 'wb') as f:
        f.write(r.content)
    print(name, r.status_code, len(r.content))
    return r


def call(name, method, path, body=None, headers=H, ok=None):
    r = requests.request(method, NT + path, json=body, headers=headers)
    if name:
        save(name, r)
    if ok and r.status_code not in ok:
        raise SystemExit('%s %s: %d %s' % (method, path, r.status_code, r.text))
    return r


def made(path):
    undo.append(path)


try:
    ext = [n for n in call(None, 'GET', '/networks?router:external=True').json()['networks']]
    net = call('network-create', 'POST', '/networks', {'network': {'name': 'cap-net', 'admin_state_up': True}}, ok=[201]).json()['network']
    made('/networks/' + net['id'])
    net2 = call(None, 'POST', '/networks', {'network': {'name': 'cap-net-down', 'admin_state_up': False, 'port_security_enabled': False}}, ok=[201]).json()['network']
    made('/networks/' + net2['id'])
    sub = call('subnet-create', 'POST', '/subnets', {'subnet': {
        'network_id': net['id'], 'name': 'cap-subnet', 'cidr': '10.77.0.0/24', 'ip_version': 4, 'gateway_ip': '10.77.0.1',
        'allocation_pools': [{'start': '10.77.0.10', 'end': '10.77.0.100'}], 'dns_nameservers': ['10.77.0.2'],
        'host_routes': [{'destination': '10.78.0.0/24', 'nexthop': '10.77.0.254'}], 'enable_dhcp': False}}, ok=[201]).json()['subnet']
    made('/subnets/' + sub['id'])
    sub2 = call(None, 'POST', '/subnets', {'subnet': {'network_id': net2['id'], 'name': 'cap-subnet-nogw', 'cidr': '10.79.0.0/24',
                                                      'ip_version': 4, 'gateway_ip': None}}, ok=[201]).json()['subnet']
    made('/subnets/' + sub2['id'])
    rbody = {'router': {'name': 'cap-router', 'admin_state_up': False}}
    if ext:
        rbody['router']['external_gateway_info'] = {'network_id': ext[0]['id']}
    rt = call('router-create', 'POST', '/routers', rbody, ok=[201]).json()['router']
    made('/routers/' + rt['id'])
    call('router-add-interface', 'PUT', '/routers/%s/add_router_interface' % rt['id'], {'subnet_id': sub['id']}, ok=[200])
    undo.append(('iface', rt['id'], sub['id']))
    call(None, 'GET', '/routers/' + rt['id'], ok=[200])
    sg = call('security-group-create', 'POST', '/security-groups', {'security_group': {'name': 'cap-sg', 'description': 'capture'}}, ok=[201]).json()['security_group']
    made('/security-groups/' + sg['id'])
    call('security-group-rule-create', 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': sg['id'], 'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp',
        'port_range_min': 22, 'port_range_max': 22, 'remote_ip_prefix': '0.0.0.0/0'}}, ok=[201])
    call('security-group-rule-conflict', 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': sg['id'], 'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp',
        'port_range_min': 22, 'port_range_max': 22, 'remote_ip_prefix': '0.0.0.0/0'}}, ok=[409])
    call(None, 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': sg['id'], 'direction': 'ingress', 'ethertype': 'IPv4', 'remote_group_id': sg['id']}}, ok=[201])
    call(None, 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': sg['id'], 'direction': 'egress', 'ethertype': 'IPv4', 'protocol': 'tcp',
        'port_range_min': 443, 'port_range_max': 443, 'remote_ip_prefix': '10.0.0.0/8'}}, ok=[201])
    call(None, 'GET', '/security-groups/' + sg['id'], ok=[200])
    port = call('port-create', 'POST', '/ports', {'port': {
        'network_id': net['id'], 'name': 'cap-port', 'fixed_ips': [{'subnet_id': sub['id'], 'ip_address': '10.77.0.50'}],
        'security_groups': [sg['id']], 'allowed_address_pairs': [{'ip_address': '10.77.0.200'}]}}, ok=[201]).json()['port']
    made('/ports/' + port['id'])
    call(None, 'GET', '/ports/' + port['id'], ok=[200])
    call(None, 'GET', '/networks/' + net['id'], ok=[200])
    q = '?project_id=' + pid
    # The project may hold other tests' objects: the listings keep the
    # capture's own (and the project's default security group).
    nets = {net['id'], net2['id']}
    keep = {
        'networks': lambda o: o['id'] in nets,
        'subnets': lambda o: o['network_id'] in nets,
        'ports': lambda o: o['network_id'] in nets,
        'routers': lambda o: o['id'] == rt['id'],
        'security-groups': lambda o: o['id'] == sg['id'] or o['name'] == 'default',
    }
    for coll, f in keep.items():
        r = call(None, 'GET', '/' + coll + q, ok=[200])
        k = coll.replace('-', '_')
        body = r.json()
        body[k] = [o for o in body[k] if f(o)]
        with open(os.path.join(out, coll + '-list.json'), 'w') as fh:
            json.dump(body, fh)
        print(coll + '-list', r.status_code, len(body[k]))
    call(None, 'GET', '/security-groups?name=default&project_id=' + pid, ok=[200])
    call('network-404', 'GET', '/networks/00000000-0000-0000-0000-000000000000', ok=[404])
    call('networks-401', 'GET', '/networks' + q, headers={'X-Auth-Token': 'not-a-token'}, ok=[401])
    call('subnet-create-overlap', 'POST', '/subnets', {'subnet': {'network_id': net['id'], 'cidr': '10.77.0.0/24', 'ip_version': 4}}, ok=[400, 409])
    call('port-create-network-404', 'POST', '/ports', {'port': {'network_id': '00000000-0000-0000-0000-000000000000'}}, ok=[404])
    with open(os.path.join(out, 'world.json'), 'w') as f:
        json.dump({'project_id': pid, 'network': net['id'], 'network_down': net2['id'], 'subnet': sub['id'], 'subnet_nogw': sub2['id'],
                   'router': rt['id'], 'security_group': sg['id'], 'port': port['id'], 'external': [n['id'] for n in ext]}, f, indent=1)
finally:
    for u in reversed(undo):
        if isinstance(u, tuple):
            r = call('router-remove-interface' if u[0] == 'iface' else None, 'PUT', '/routers/%s/remove_router_interface' % u[1], {'subnet_id': u[2]})
        else:
            r = requests.delete(NT + u, headers=H)
        print('cleanup', u, r.status_code)
