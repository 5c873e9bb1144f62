#!/usr/bin/python3
"""Freeze what karbor's own exception classes do into exceptions.golden.json.

Runs the real karbor/exception.py (from the commit before karbor was retired)
with stand-ins for the imports it needs only for other classes (webob,
oslo_versionedobjects, karbor.i18n); oslo.config, oslo.log and six are
Debian's:

    git -C <karbor mirror> show fcca3935af26a8b1b78eabfdd345840a3a2dd8c0:karbor/exception.py > /tmp/karbor_exception.py
    /usr/bin/python3 testdata/make_exception_golden.py /tmp/karbor_exception.py > testdata/exceptions.golden.json

For every KarborException subclass it records the parent, the class code and,
for three constructions (every template key given, in template order; no
kwargs; a positional message), the message, args and kwargs as
oslo.messaging would serialize them. exception_golden_test.go replays them.
"""
import json
import re
import sys
import types

for name in ['webob', 'webob.exc', 'webob.util', 'oslo_versionedobjects', 'oslo_versionedobjects.exception',
             'karbor', 'karbor.i18n']:
    sys.modules[name] = types.ModuleType(name)
sys.modules['webob.exc'].WSGIHTTPException = Exception
sys.modules['webob.util'].status_generic_reasons = {}
sys.modules['webob.util'].status_reasons = {}
sys.modules['webob'].exc = sys.modules['webob.exc']
sys.modules['webob'].util = sys.modules['webob.util']
ovo = sys.modules['oslo_versionedobjects.exception']
ovo.OrphanedObjectError = type('OrphanedObjectError', (Exception,), {})
ovo.ObjectActionError = type('ObjectActionError', (Exception,), {})
sys.modules['oslo_versionedobjects'].exception = ovo
sys.modules['karbor.i18n']._ = lambda s: s
src = open(sys.argv[1]).read()
mod = types.ModuleType('karbor.exception')
mod.__file__ = sys.argv[1]
exec(compile(src, sys.argv[1], 'exec'), mod.__dict__)
K = mod.KarborException


def record(exc):
    return {'message': str(exc), 'args': list(exc.args),
            'kwargs': json.loads(json.dumps(exc.kwargs, default=repr)),
            'kwarg_keys': list(exc.kwargs.keys())}


out = []
for name, cls in vars(mod).items():
    if not (isinstance(cls, type) and issubclass(cls, K)):
        continue
    keys = []
    for m in re.finditer(r'%\((\w+)\)([sd])', cls.message):
        if m.group(1) not in keys and m.group(1) != 'code':
            keys.append((m.group(1), m.group(2)))
    kwargs = {k: (5 if conv == 'd' else 'v-' + k) for k, conv in keys}
    out.append({
        'class': name,
        'parent': cls.__mro__[1].__name__,
        'code': cls.code,
        'template': cls.message,
        'full': {'kwargs_in': kwargs, **record(cls(**kwargs))},
        'empty': record(cls()),
        'message': record(cls('a free-text message')),
    })
json.dump(out, sys.stdout, indent=1)
sys.stdout.write('\n')
