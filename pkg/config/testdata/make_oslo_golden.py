#!/usr/bin/python3
"""Freeze what oslo.config does with the cases below into oslo-golden.json.

Run with Debian's python3-oslo.config (the release karbor-protection ran on):

    /usr/bin/python3 testdata/make_oslo_golden.py > testdata/oslo-golden.json

The Go tests (oslo_golden_test.go) replay every case against pkg/config and
compare each value by its Python repr(); they never need Python.
"""
import json
import os
import shutil
import sys
import tempfile

from oslo_config import cfg

OPT = {
    'str': cfg.StrOpt, 'bool': cfg.BoolOpt, 'int': cfg.IntOpt, 'float': cfg.FloatOpt,
    'list': cfg.ListOpt, 'multistr': cfg.MultiStrOpt, 'host': cfg.HostAddressOpt,
    'port': cfg.PortOpt,
}


def o(group, name, typ='str', default=None, deprecated=(), choices=None, min=None, max=None):
    d = {'group': group, 'name': name, 'type': typ, 'default': default,
         'deprecated': [list(x) for x in deprecated]}
    if choices is not None:
        d['choices'] = choices
    if min is not None:
        d['min'] = min
    if max is not None:
        d['max'] = max
    return d


def case(name, files, opts, reads=None, sources=None, env=None):
    return {'name': name, 'files': [{'name': n, 'text': t} for n, t in files],
            'sources': sources or [{'file': n} for n, _ in files],
            'opts': opts, 'env': env or {},
            'reads': reads or [[x['group'], x['name']] for x in opts]}


PROVIDER_OPTS = [o('provider', 'plugin', 'multistr', ''), o('provider', 'bank', default=''),
                 o('provider', 'description', default=''), o('provider', 'name', default=''),
                 o('provider', 'id', default=''), o('provider', 'enabled', 'bool', False)]

# karbor's devstack/providers.d/openstack-fs-bank.conf and etc/providers.d/noop.conf
FS_BANK_PROVIDER = """[provider]
name = OS Infra Provider with local file system bank
description = This provider uses local file system as the bank of karbor
id = 6659007d-6f66-4a0f-9cb4-17d6aded0bb9

plugin=karbor-volume-protection-plugin
plugin=karbor-image-protection-plugin
plugin=karbor-server-protection-plugin
bank=karbor-fs-bank-plugin

enabled=True

[file_system_bank_plugin]
file_system_bank_path=/opt/stack/karbor_fs_bank
"""
NOOP_PROVIDER = """[provider]
name = No-Op Provider
description = This provider does nothing for each protect and restore operation. Used for testing
id = b766f37c-d011-4026-8228-28730d734a3f

plugin=karbor-noop-protection-plugin
bank=karbor-swift-bank-plugin

enabled=True

[swift_client]
swift_auth_url=http://127.0.0.1/identity
swift_user=demo
swift_key=password
swift_tenant_name=demo

[swift_bank_plugin]
lease_expire_window=120
lease_renew_window=100
lease_validity_window=100
"""


D = 'DEFAULT'
CASES = [
    case('defaults when unset', [('a.conf', '[DEFAULT]\n')],
         [o(D, 's', default='x'), o(D, 'n'), o(D, 'i', 'int', 10), o(D, 'b', 'bool', True),
          o(D, 'f', 'float', 1.5), o(D, 'l', 'list', ['a', 'b']), o(D, 'm', 'multistr', ''),
          o('provider', 'plugin', 'multistr', ''), o('provider', 'enabled', 'bool', False)]),
    case('later file overrides key by key',
         [('a.conf', '[DEFAULT]\nx = 1\ny = 1\n[g]\nz = a\n'), ('b.conf', '[DEFAULT]\ny = 2\n[g]\nz = b\nz = c\n')],
         [o(D, 'x'), o(D, 'y'), o('g', 'z')]),
    case('multi-valued collects every value in order',
         [('a.conf', '[provider]\nplugin = p1\nplugin = p2\n[other]\nplugin = no\n[provider]\nplugin = p3\n'),
          ('b.conf', '[Provider]\nplugin = p4\n'), ('c.conf', '[provider]\nplugin =\n')],
         [o('provider', 'plugin', 'multistr', '')]),
    case('section names are case-insensitive, keys are not',
         [('a.conf', '[Provider]\nEnabled = true\nid = A\n[PROVIDER]\nenabled = YES\n[default]\nfoo = 1\n[DEFAULT]\nbar = 2\n')],
         [o('provider', 'enabled', 'bool', False), o('provider', 'id'), o(D, 'foo'), o(D, 'bar')]),
    case('booleans', [('a.conf', '[DEFAULT]\n' + ''.join('b%d = %s\n' % (i, v) for i, v in enumerate(
        ['true', 'True', 'TRUE', 'yes', 'Yes', 'on', 'ON', '1', 'false', 'False', 'no', 'NO', 'off', 'Off', '0',
         'maybe', '', 't', '2', 'y'])))],
         [o(D, 'b%d' % i, 'bool', True) for i in range(20)]),
    case('integers', [('a.conf', '[DEFAULT]\n' + ''.join('i%d = %s\n' % (i, v) for i, v in enumerate(
        ['42', '-7', '+7', '-0', '007', '1_000', '1__0', '_1', '1_', '0x10', '1.0', '1e3', '',
         '\u0661\u0662', '\u0661_\u0662', '9223372036854775807', 'ten', '1 0'])))],
         [o(D, 'i%d' % i, 'int', 5) for i in range(18)]),
    case('bounded integers and ports',
         [('a.conf', '[database]\nconnection_debug = 101\n[DEFAULT]\np1 = 65535\np2 = 65536\np3 = -1\nlo = 0\nhi = 100\n')],
         [o('database', 'connection_debug', 'int', 0, min=0, max=100), o(D, 'p1', 'port'), o(D, 'p2', 'port'),
          o(D, 'p3', 'port'), o(D, 'lo', 'int', min=0, max=100), o(D, 'hi', 'int', min=0, max=100)]),
    case('floats', [('a.conf', '[DEFAULT]\n' + ''.join('f%d = %s\n' % (i, v) for i, v in enumerate(
        ['1.5', '1e3', '1E-5', '.5', '1.', '.', '-Infinity', 'inf', 'INF', 'nan', '1_0.5_0', '1_.5',
         '1e5_0', '1e400', '0x1p3', '', '12', '1e', 'abc', '0.1', '1e16', '123456789012345678'])))],
         [o(D, 'f%d' % i, 'float', 2.5) for i in range(22)]),
    case('lists', [('a.conf', '[DEFAULT]\n' + ''.join('l%d = %s\n' % (i, v) for i, v in enumerate(
        ['a, b,,c ,, ', '', ',', ' a ', 'a,b,', ',a', 'x', '"q, r"', 'a,,,'])))],
         [o(D, 'l%d' % i, 'list', ['d']) for i in range(9)]),
    case('strings with =, :, quotes and comments',
         [('a.conf', '[DEFAULT]\na = rabbit://u:p@h:5672/v?x=y\nb : c = d\nc = "quoted"\nd = \'x\'\n'
                     'e = "a"b"\nf = "\ng = x # not comment\nh = first\n  second\n\t third\n\n  \n'
                     'i = v\n  # still value\nj=`x`\nk="""x"""\nl = a\\\nm = \'"\nn=\n# comment\n; comment\n'
                     'o = \xe9t\xe9 \u2028\n')],
         [o(D, x) for x in 'abcdefghijklmno']),
    case('choices', [('a.conf', '[DEFAULT]\nc1 = keystone\nc2 = Keystone\nc3 =\n')],
         [o(D, 'c1', choices=['noauth', 'keystone']), o(D, 'c2', choices=['noauth', 'keystone']),
          o(D, 'c3', choices=['noauth', 'keystone'])]),
    case('host addresses', [('a.conf', '[DEFAULT]\n' + ''.join('h%d = %s\n' % (i, v) for i, v in enumerate(
        ['myhost', 'my_host', '1.2.3.4', '01.2.3.4', '1.2.3', '::1', 'fe80::1%eth0', '::ffff:1.2.3.4',
         'host.example.com.', '-bad', 'a.123', '123', 'a' * 64, 'x.' + 'a' * 63, 'UPPER.Case', 'a..b', ''])))],
         [o(D, 'h%d' % i, 'host', 'default-host') for i in range(17)]),
    case('substitution',
         [('a.conf', '[DEFAULT]\nstate_path = /s\nb = $state_path/x\nc = ${state_path}y\nd = $$state_path\n'
                     'e = \\$state_path\nf = $nope\ng = $i/$t/$n/$fl/$li\ni = 5\nt = true\nfl = 2\nli = a,b\n'
                     'h = $database.connection\nj = $connection\nk2 = cost$\nk3 = ${unclosed\nk4 = $1abc\n'
                     'k5 = $state_path.x\nk6 = $database\nk7 = ${state_path}.x\nk8 = $STATE_PATH\n'
                     'k9 = $$$state_path\nk10 = $\n'
                     '[database]\nconnection = $state_path/db\nk = $connection\nl = $b\n')],
         [o(D, 'state_path'), o(D, 'b'), o(D, 'c'), o(D, 'd'), o(D, 'e'), o(D, 'f'), o(D, 'g'),
          o(D, 'i', 'int'), o(D, 't', 'bool'), o(D, 'n'), o(D, 'fl', 'float'), o(D, 'li', 'list'),
          o(D, 'h'), o(D, 'j'), o(D, 'k2'), o(D, 'k3'), o(D, 'k4'), o(D, 'k5'), o(D, 'k6'), o(D, 'k7'),
          o(D, 'k8'), o(D, 'k9'), o(D, 'k10'),
          o('database', 'connection'), o('database', 'k'), o('database', 'l')]),
    case('substitution in defaults and typed values',
         [('a.conf', '[DEFAULT]\nstate_path = /srv/k\nnum = $ten\nten = 10\nbad = $word\nword = x\n')],
         [o(D, 'state_path', default='/var/lib/karbor'),
          o('database', 'connection', default='sqlite:///$state_path/karbor.sqlite'),
          o(D, 'num', 'int'), o(D, 'ten', 'int'), o(D, 'bad', 'int'), o(D, 'word')]),
    case('default substitution without file value', [('a.conf', '[DEFAULT]\n')],
         [o(D, 'state_path', default='/var/lib/karbor'),
          o('database', 'connection', default='sqlite:///$state_path/karbor.sqlite')]),
    case('deprecated names',
         [('a.conf', '[DEFAULT]\nlogfile = old.log\npybasedir = /old\nsql_connection = sqlite://\n'
                     '[database]\nidle_timeout = 7\n'),
          ('b.conf', '[DEFAULT]\nstate_path = /new\nlog_file = new.log\nlogfile = older.log\n')],
         [o(D, 'log_file', deprecated=[('', 'logfile')]), o(D, 'state_path', deprecated=[('', 'pybasedir')]),
          o('database', 'connection', deprecated=[(D, 'sql_connection')]),
          o('database', 'connection_recycle_time', 'int', 3600, deprecated=[('database', 'idle_timeout')])]),
    case('deprecated name in a newer file wins',
         [('a.conf', '[DEFAULT]\nlog_file = current.log\n'), ('b.conf', '[DEFAULT]\nlogfile = deprecated.log\n')],
         [o(D, 'log_file', deprecated=[('', 'logfile')])]),
    case('environment overrides files',
         [('a.conf', '[DEFAULT]\nhost = filehost\nn = 3\n[database]\nconnection = file://\n')],
         [o(D, 'host'), o(D, 'n', 'int'), o(D, 'unset', default='d'), o('database', 'connection')],
         env={'OS_DEFAULT__HOST': 'envhost', 'OS_DEFAULT__N': 'x', 'OS_DEFAULT__UNSET': 'from-env',
              'OS_DATABASE__CONNECTION': 'mysql://env'}),
    case('config dir before file', [('d/b.conf', '[DEFAULT]\nfoo = dir-b\nm = db\n'),
                                    ('d/a.conf', '[DEFAULT]\nfoo = dir-a\nm = da\n'),
                                    ('d/.hidden.conf', '[DEFAULT]\nfoo = hidden\n'),
                                    ('d/c.txt', '[DEFAULT]\nfoo = txt\n'),
                                    ('f.conf', '[DEFAULT]\nfoo = file\nm = f\n')],
         [o(D, 'foo'), o(D, 'm', 'multistr', '')], sources=[{'dir': 'd'}, {'file': 'f.conf'}]),
    case('config file before dir', [('d/b.conf', '[DEFAULT]\nfoo = dir-b\nm = db\n'),
                                    ('d/a.conf', '[DEFAULT]\nfoo = dir-a\nm = da\n'),
                                    ('f.conf', '[DEFAULT]\nfoo = file\nm = f\n')],
         [o(D, 'foo'), o(D, 'm', 'multistr', '')], sources=[{'file': 'f.conf'}, {'dir': 'd'}]),
    case('line endings', [('a.conf', '[DEFAULT]\r\na = 1\r\nb = 2\rc = x\r\n  y\n')],
         [o(D, 'a'), o(D, 'b'), o(D, 'c')]),
    case('provider file: devstack fs bank', [('openstack-fs-bank.conf', FS_BANK_PROVIDER)],
         PROVIDER_OPTS + [o('file_system_bank_plugin', 'file_system_bank_path'),
                          o('file_system_bank_plugin', 'bank_object_container', default='karbor')]),
    case('provider file: noop with swift bank', [('noop.conf', NOOP_PROVIDER)],
         PROVIDER_OPTS + [o('swift_bank_plugin', 'lease_expire_window', 'int', 600),
                          o('swift_bank_plugin', 'lease_renew_window', 'int', 120),
                          o('swift_client', 'swift_auth_url'), o('swift_client', 'swift_retry_attempts', 'int', 3)]),
]

PARSE_ERRORS = [
    'foo = 1\n', '[DEFAULT]\n = x\n', '= x\n', '[DEFAULT]\n= x\n', '[DEFAULT]\nnovalue\n',
    '[DEFAULT] # x\n', '[]\n', '[DEFAULT\n', '  x\n', '[DEFAULT]\n  x = 1\n', '[DEFAULT]\n# c\n  more\n',
    '[DEFAULT]\na = 1\n\n  b\n',
]
for i, text in enumerate(PARSE_ERRORS):
    CASES.append(case('parse error %d' % i, [('a.conf', text)], [o(D, 'a')]))
CASES.append(case('parse ok: bracket name with spaces', [('a.conf', '[ DEFAULT ]\na=1\n')], [o(D, 'a')]))


def make_opt(d):
    kw = {}
    if d['default'] is not None:
        kw['default'] = d['default']
    if d['deprecated']:
        kw['deprecated_opts'] = [cfg.DeprecatedOpt(n, group=g or None) for g, n in d['deprecated']]
    if 'choices' in d:
        kw['choices'] = d['choices']
    if 'min' in d:
        kw['min'] = d['min']
    if 'max' in d:
        kw['max'] = d['max']
    return OPT[d['type']](d['name'], **kw)


def run(c):
    tmp = tempfile.mkdtemp()
    try:
        for f in c['files']:
            p = os.path.join(tmp, f['name'])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'w', newline='') as fh:
                fh.write(f['text'])
        args = []
        for s in c['sources']:
            if 'file' in s:
                args.append('--config-file=' + os.path.join(tmp, s['file']))
            else:
                args.append('--config-dir=' + os.path.join(tmp, s['dir']))
        for k in [k for k in os.environ if k.startswith('OS_')]:
            del os.environ[k]
        os.environ.update(c['env'])
        conf = cfg.ConfigOpts()
        for d in c['opts']:
            conf.register_opt(make_opt(d), group=None if d['group'] == D else d['group'])
        try:
            conf(args=args, project=None, prog='x', default_config_files=[], default_config_dirs=[])
        except Exception as e:
            return {'load_error': type(e).__name__}
        out = {}
        for g, n in c['reads']:
            try:
                v = getattr(conf, n) if g == D else getattr(conf[g], n)
                out['%s.%s' % (g, n)] = {'repr': repr(v)}
            except BaseException as e:  # RecursionError included
                out['%s.%s' % (g, n)] = {'error': type(e).__name__}
        return {'reads': out}
    finally:
        for k in c['env']:
            os.environ.pop(k, None)
        shutil.rmtree(tmp)


result = []
for c in CASES:
    c = dict(c)
    c['expect'] = run(c)
    result.append(c)
json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write('\n')
