"""The request context karbor-api puts on the wire for a real Keystone user.

karbor-api authenticates a request with keystonemiddleware's auth_token
filter, which validates the caller's token against Keystone and turns it into
X-* headers; karbor/api/middleware/auth.py KarborKeystoneContext builds a
karbor.context.RequestContext from those headers; the RPC client's
RequestContextSerializer sends its to_dict(). This script does the same
steps with the same libraries, without karbor installed:

- the user gets a token from Keystone (keystoneauth1, as a CLI would);
- the middleware's service user validates it (GET /v3/auth/tokens, with the
  catalog), and keystonemiddleware's own request class sets the X-* headers
  from the validated token, the catalog normalised to karbor's v2 shape;
- the context takes user, project, roles, token, catalog (only the service
  types karbor keeps), token info, the request id (req-<uuid>, as
  oslo_middleware's RequestId gives) and the remote address from them;
  is_admin is karbor's policy rule context_is_admin ("role:admin");
- to_dict is oslo_context's plus karbor's own keys.

Keystone refuses a token issued in the second of a revocation event (other
tests revoke tokens of the same user): such a token fails validation and a
new one is taken, until the deadline.

Usage: karbor_api_context.py '<spec json>', spec: {"auth_url", "user",
"password", "project", "service_user", "service_password",
"service_project", "deadline" (seconds)}. Prints the context as JSON.
"""

import json
import sys
import time
import uuid

from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystonemiddleware.auth_token import _request
from oslo_context import context as oslo_context
from oslo_utils import timeutils

# karbor.context.RequestContext keeps only these services of the catalog.
CATALOG_TYPES = ('identity', 'compute', 'object-store', 'image', 'volume',
                 'volumev2', 'network', 'volumev3', 'orchestration',
                 'share', 'sharev2', 'database')

REMOTE_ADDRESS = '127.0.0.1'


def password_auth(spec, user, password, project):
    return v3.Password(auth_url=spec['auth_url'], username=user,
                       password=password, user_domain_id='default',
                       project_name=project, project_domain_id='default')


def validated_token(spec):
    """A fresh token of the user and its body as the middleware gets it."""
    service = session.Session(auth=password_auth(
        spec, spec['service_user'], spec['service_password'],
        spec['service_project']), timeout=30)
    deadline = time.monotonic() + spec.get('deadline', 60)
    while True:
        user = session.Session(auth=password_auth(
            spec, spec['user'], spec['password'], spec['project']),
            timeout=30)
        token = user.get_token()
        try:
            resp = service.get(spec['auth_url'] + '/auth/tokens',
                               headers={'X-Subject-Token': token})
            return token, resp.json()
        except (ks_exc.NotFound, ks_exc.Unauthorized):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # a new token, in a later second


def karbor_context(token, token_info):
    ref = access.create(body=token_info, auth_token=token)
    req = _request._AuthTokenRequest.blank('/', remote_addr=REMOTE_ADDRESS)
    req.headers['X-Auth-Token'] = token
    req.set_user_headers(ref)
    req.set_service_catalog_headers(ref)
    req.token_info = token_info
    headers = req.headers

    roles = [r.strip() for r in headers.get('X_ROLE', '').split(',')]
    catalog = json.loads(headers['X_SERVICE_CATALOG'])
    ctx = oslo_context.RequestContext(
        auth_token=headers.get('X_AUTH_TOKEN'),
        user_id=headers.get('X_USER_ID'),
        project_id=headers['X_TENANT_ID'],
        is_admin='admin' in roles,
        request_id='req-' + str(uuid.uuid4()),
        roles=roles,
        project_name=headers.get('X_TENANT_NAME'))
    out = ctx.to_dict()
    out.update({
        'user_id': ctx.user_id,
        'project_id': ctx.project_id,
        'project_name': ctx.project_name,
        'domain': None,
        'read_deleted': 'no',
        'roles': roles,
        'remote_address': req.remote_addr,
        'timestamp': timeutils.utcnow().isoformat(),
        'quota_class': None,
        'service_catalog': [s for s in catalog
                            if s.get('type') in CATALOG_TYPES],
        'request_id': ctx.request_id,
        'auth_token_info': req.token_info,
    })
    return out


def main():
    spec = json.loads(sys.argv[1])
    token, info = validated_token(spec)
    json.dump(karbor_context(token, info), sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
