"""The calls of karbor's S3 bank plugin, made as it makes them.

karbor/services/protection/bank_plugins/s3_bank_plugin.py with the client of
karbor/services/protection/clients/s3.py (a botocore client with an
endpoint_url and nothing else), without karbor's imports. Reads one JSON
request per line on stdin, writes one JSON answer per line on stdout.

Requests: {"op": "update_object", "key": k, "value": v}  (v: a str is stored
as is, anything else as JSON with the serialized flag, as Python does),
{"op": "get_object", "key": k}, {"op": "list_objects", "prefix": p,
"limit": n, "marker": m}, {"op": "acquire_lease", "owner_id": o,
"lease_expire_window": s}, {"op": "raw_get", "bucket": b, "key": k}.
"""
import json
import math
import sys
import time

import botocore.session
from botocore.exceptions import ClientError


def client(endpoint, access, secret):
    return botocore.session.get_session().create_client(
        's3', aws_access_key_id=access, aws_secret_access_key=secret,
        endpoint_url=endpoint)


class Bank(object):
    def __init__(self, conn, bucket, lease_bucket):
        self.conn, self.bucket, self.lease_bucket = conn, bucket, lease_bucket

    def update_object(self, key, value):
        serialized = False
        if not isinstance(value, str):
            value = json.dumps(value)
            serialized = True
        self.conn.put_object(Bucket=self.bucket, Key=key, Body=value,
                             Metadata={'x-object-meta-serialized':
                                       str(serialized)})

    def get_object(self, key):
        response = self.conn.get_object(Bucket=self.bucket, Key=key)
        body = response['Body'].read()
        if response['Metadata']["x-object-meta-serialized"].lower() == "true":
            return json.loads(body)
        return body.decode('utf-8')

    def list_objects(self, prefix=None, limit=None, marker=None):
        prefix = '' if prefix is None else prefix
        marker = '' if marker is None else marker
        out = []
        if limit is None:
            truncated = True
            while truncated:
                r = self.conn.list_objects(Bucket=self.bucket, Prefix=prefix,
                                           Marker=marker)
                if 'Contents' not in r:
                    break
                truncated = r['IsTruncated']
                out.extend(r['Contents'])
                marker = r['Contents'][-1]['Key']
        else:
            r = self.conn.list_objects(Bucket=self.bucket, Prefix=prefix,
                                       MaxKeys=limit, Marker=marker)
            out.extend(r.get('Contents', []))
        return [o['Key'] for o in out]

    def acquire_lease(self, owner_id, lease_expire_window):
        expire = math.floor(time.time()) + lease_expire_window
        self.conn.put_object(Bucket=self.lease_bucket, Key=owner_id,
                             Body=owner_id,
                             Metadata={'lease-expire-time': str(expire)})
        return expire

    def raw_get(self, bucket, key):
        r = self.conn.get_object(Bucket=bucket, Key=key)
        return {'body': r['Body'].read().decode('utf-8'),
                'metadata': r['Metadata']}


def main():
    endpoint, access, secret, bucket, lease_bucket = sys.argv[1:6]
    bank = Bank(client(endpoint, access, secret), bucket, lease_bucket)
    for line in sys.stdin:
        req = json.loads(line)
        op = req.pop('op')
        try:
            result = {'result': getattr(bank, op)(**req)}
        except ClientError as err:
            result = {'error': str(err)}
        sys.stdout.write(json.dumps(result) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
