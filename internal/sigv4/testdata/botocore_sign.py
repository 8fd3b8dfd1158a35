"""Signs a request with botocore's SigV4 signer and prints it as JSON, so the
Go tests can check that seqstore accepts what boto3 and the AWS CLI send."""
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = json.load(sys.stdin)
req = AWSRequest(method=spec["method"], url=spec["url"], data=spec.get("body", "").encode(), headers=spec.get("headers", {}))
SigV4Auth(Credentials(spec["accessKey"], spec["secret"]), "omics", spec["region"]).add_auth(req)
print(json.dumps({"url": req.url, "headers": dict(req.headers.items())}))
