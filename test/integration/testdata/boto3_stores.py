"""Drives seqstore's store, tag and policy operations through boto3 and
prints a JSON summary for the Go test to check."""
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

client = boto3.client(
    "omics",
    endpoint_url=os.environ["SEQSTORE_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
)

summary = {}
store = client.create_sequence_store(name="boto3-store", tags={"client": "boto3"})
summary["id"] = store["id"]
summary["arn"] = store["arn"]
summary["creationTimeType"] = type(store["creationTime"]).__name__

got = client.get_sequence_store(id=store["id"])
summary["name"] = got["name"]
summary["family"] = got["eTagAlgorithmFamily"]

pages = client.get_paginator("list_sequence_stores").paginate(PaginationConfig={"PageSize": 1})
summary["listed"] = sum(len(p["sequenceStores"]) for p in pages)

client.tag_resource(resourceArn=store["arn"], tags={"stage": "test"})
client.untag_resource(resourceArn=store["arn"], tagKeys=["client"])
summary["tags"] = client.list_tags_for_resource(resourceArn=store["arn"])["tags"]

try:
    client.get_sequence_store(id="9999999999")
except ClientError as e:
    summary["notFound"] = e.response["Error"]["Code"]
    summary["notFoundStatus"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    summary["requestId"] = e.response["ResponseMetadata"].get("RequestId", "")

try:
    client.create_sequence_store(name="x" * 200)
except ClientError as e:
    summary["validation"] = e.response["Error"]["Code"]
    summary["validationMessage"] = e.response["Error"]["Message"]

ref = client.create_reference_store(name="boto3-refs")
summary["referenceStore"] = client.get_reference_store(id=ref["id"])["name"]
client.delete_reference_store(id=ref["id"])

client.delete_sequence_store(id=store["id"])
json.dump(summary, sys.stdout)
