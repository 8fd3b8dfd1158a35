"""Reads a stored read set through seqstore's S3 endpoint with boto3 and
prints a JSON summary for the Go test to check.

Arguments: BUCKET STORE_PREFIX BAM_KEY."""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

bucket, store_prefix, bam_key = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["SEQSTORE_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"max_attempts": 1}),
)

summary = {}
head = s3.head_object(Bucket=bucket, Key=bam_key)
summary["size"] = head["ContentLength"]
summary["etag"] = head["ETag"]

got = s3.get_object(Bucket=bucket, Key=bam_key, Range="bytes=100-1099")
body = got["Body"].read()
summary["rangeMD5"] = hashlib.md5(body).hexdigest()
summary["contentRange"] = got["ContentRange"]
summary["rangeStatus"] = got["ResponseMetadata"]["HTTPStatusCode"]

whole = s3.get_object(Bucket=bucket, Key=bam_key)["Body"].read()
summary["wholeMD5"] = hashlib.md5(whole).hexdigest()

try:
    s3.get_object(Bucket=bucket, Key=bam_key, IfNoneMatch=head["ETag"])
    summary["ifNoneMatch"] = 200
except ClientError as e:
    summary["ifNoneMatch"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
try:
    s3.get_object(Bucket=bucket, Key=bam_key, IfMatch='"0123"')
    summary["ifMatch"] = "200"
except ClientError as e:
    summary["ifMatch"] = e.response["Error"]["Code"]
try:
    s3.get_object(Bucket=bucket, Key=bam_key, Range="bytes=%d-" % (head["ContentLength"] + 10))
    summary["pastEnd"] = "200"
except ClientError as e:
    summary["pastEnd"] = e.response["Error"]["Code"]
try:
    s3.get_object(Bucket=bucket, Key=bam_key + ".missing")
    summary["missing"] = "200"
except ClientError as e:
    summary["missing"] = e.response["Error"]["Code"]

# The store's read sets, one common prefix each.
listed = s3.list_objects_v2(Bucket=bucket, Prefix=store_prefix + "readSet/", Delimiter="/")
summary["readSetPrefixes"] = [p["Prefix"] for p in listed.get("CommonPrefixes", [])]

# Every object of the store, one a page.
keys, pages = [], 0
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=store_prefix, PaginationConfig={"PageSize": 1}):
    pages += 1
    keys += [o["Key"] for o in page.get("Contents", [])]
summary["keys"] = keys
summary["pages"] = pages
summary["location"] = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")

try:
    s3.put_object(Bucket=bucket, Key=store_prefix + "new.txt", Body=b"x")
    summary["put"] = "200"
except ClientError as e:
    summary["put"] = e.response["Error"]["Code"]
try:
    s3.delete_object(Bucket=bucket, Key=bam_key)
    summary["delete"] = "200"
except ClientError as e:
    summary["delete"] = e.response["Error"]["Code"]

# A presigned URL works until it expires, then S3 says AccessDenied.
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": bam_key}, ExpiresIn=2)
with urllib.request.urlopen(url) as r:
    summary["presignedMD5"] = hashlib.md5(r.read()).hexdigest()
time.sleep(3.5)
try:
    urllib.request.urlopen(url)
    summary["expired"] = "200"
except urllib.error.HTTPError as e:
    summary["expired"] = "%d %s" % (e.code, e.read().decode())

print(json.dumps(summary))
