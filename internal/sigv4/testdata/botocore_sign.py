"""Signs requests with botocore, as boto3 and the AWS CLI send them, so the
Go tests can check that seqstore's verifier accepts them.

Reads one JSON object on stdin and prints one JSON object on stdout.

mode "sign": sign each of "requests" with SigV4Auth (header) or
SigV4QueryAuth (presigned, when "expires" is set) at the fixed "time", and
print {"signed": [{"url": ..., "headers": {...}}, ...]} as botocore would
send them.

mode "client": run the omics client of boto3 against "endpoint" with its
host prefixes (every host name resolves to 127.0.0.1) and print
{"calls": [{"op": ..., "error": ...}]}.
"""
import datetime
import json
import socket
import sys

import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def credentials(spec):
    return Credentials(spec["accessKey"], spec["secret"], spec.get("token"))


def sign_all(spec):
    at = datetime.datetime.strptime(spec["time"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda: at
    return {"signed": [sign(dict(spec, **r)) for r in spec["requests"]]}


def sign(spec):
    req = AWSRequest(method=spec["method"], url=spec["url"], data=spec.get("body", "").encode(), headers=spec.get("headers", {}))
    if spec.get("expires"):
        SigV4QueryAuth(credentials(spec), "omics", spec["region"], expires=spec["expires"]).add_auth(req)
    else:
        SigV4Auth(credentials(spec), "omics", spec["region"]).add_auth(req)
    prepared = req.prepare()
    return {"url": prepared.url, "headers": dict(prepared.headers.items())}


def client(spec):
    real_getaddrinfo = socket.getaddrinfo
    socket.getaddrinfo = lambda host, *rest, **kw: real_getaddrinfo("127.0.0.1", *rest, **kw)
    c = botocore.session.get_session().create_client(
        "omics", region_name=spec["region"], endpoint_url=spec["endpoint"],
        aws_access_key_id=spec["accessKey"], aws_secret_access_key=spec["secret"],
        config=Config(retries={"max_attempts": 1}))
    store, arn = "1234567890", "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"
    part = b"ACGT" * spec["partQuarter"]
    calls = [
        ("GetSequenceStore", lambda: c.get_sequence_store(id=store)),
        ("ListReadSets", lambda: c.list_read_sets(sequenceStoreId=store, maxResults=5, nextToken="next/token==",
                                                  filter={"status": "ACTIVE", "name": "a  b"})),
        ("TagResource", lambda: c.tag_resource(resourceArn=arn, tags={"team": "genomics"})),
        ("UntagResource", lambda: c.untag_resource(resourceArn=arn, tagKeys=["zeta", "alpha"])),
        ("UploadReadSetPart", lambda: c.upload_read_set_part(sequenceStoreId=store, uploadId="1111111111",
                                                             partSource="SOURCE1", partNumber=1, payload=part)),
        ("GetReadSet", lambda: c.get_read_set(sequenceStoreId=store, id="2222222222", partNumber=1,
                                              file="SOURCE1")["payload"].read()),
        ("PresignedGetReadSetMetadata", lambda: presigned_get(c, store)),
    ]
    out = []
    for op, call in calls:
        try:
            call()
            out.append({"op": op, "error": ""})
        except Exception as e:  # reported to the Go test, which fails on it
            out.append({"op": op, "error": repr(e)})
    return {"calls": out}


def presigned_get(c, store):
    import urllib.request
    url = c.generate_presigned_url("get_read_set_metadata", Params={"sequenceStoreId": store, "id": "2222222222"}, ExpiresIn=600)
    urllib.request.urlopen(url).read()


spec = json.load(sys.stdin)
print(json.dumps(sign_all(spec) if spec["mode"] == "sign" else client(spec)))
