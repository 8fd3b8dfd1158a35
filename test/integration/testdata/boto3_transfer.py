"""Uploads a paired FASTQ the way AWS's transfer tools do (100 MiB parts, up
to 10 in flight, SOURCE1 and SOURCE2 under one upload), waits for the read
set, downloads it part by part in parallel, and prints a JSON summary."""
import concurrent.futures
import gzip
import hashlib
import json
import os
import sys
import time

import boto3
from botocore.config import Config

PART = 100 * 1024 * 1024
store_id, source1, source2, download_dir = sys.argv[1:5]

client = boto3.client(
    "omics",
    endpoint_url=os.environ["SEQSTORE_ENDPOINT"],
    region_name="us-east-1",
    config=Config(inject_host_prefix=False, max_pool_connections=20, retries={"max_attempts": 1}),
)

upload = client.create_multipart_read_set_upload(
    sequenceStoreId=store_id, sourceFileType="FASTQ", subjectId="subject", sampleId="sample", name="transfer-tools"
)
upload_id = upload["uploadId"]


def put(source, number, path):
    with open(path, "rb") as f:
        f.seek((number - 1) * PART)
        body = f.read(PART)
    out = client.upload_read_set_part(
        sequenceStoreId=store_id, uploadId=upload_id, partSource=source, partNumber=number, payload=body
    )
    return {"partNumber": number, "partSource": source, "checksum": out["checksum"]}


jobs = []
for source, path in (("SOURCE1", source1), ("SOURCE2", source2)):
    parts = (os.path.getsize(path) + PART - 1) // PART
    jobs += [(source, n, path) for n in range(1, parts + 1)]
with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
    parts = list(pool.map(lambda j: put(*j), jobs))

listed = client.list_read_set_upload_parts(sequenceStoreId=store_id, uploadId=upload_id, partSource="SOURCE1")["parts"]
read_set_id = client.complete_multipart_read_set_upload(sequenceStoreId=store_id, uploadId=upload_id, parts=parts)["readSetId"]

deadline = time.time() + 300
while True:
    meta = client.get_read_set_metadata(sequenceStoreId=store_id, id=read_set_id)
    if meta["status"] != "PROCESSING_UPLOAD" or time.time() > deadline:
        break
    time.sleep(0.2)


def fetch(file, number):
    body = client.get_read_set(sequenceStoreId=store_id, id=read_set_id, file=file, partNumber=number)["payload"].read()
    return number, body


downloads = {}
for file, key in (("SOURCE1", "source1"), ("SOURCE2", "source2")):
    info = meta["files"][key]
    out_path = os.path.join(download_dir, key + ".fastq.gz")
    with open(out_path, "wb") as out, concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        for number, body in sorted(pool.map(lambda n: fetch(file, n), range(1, info["totalParts"] + 1))):
            out.seek((number - 1) * info["partSize"])
            out.write(body)
    with gzip.open(out_path, "rb") as f:
        h = hashlib.md5()
        while chunk := f.read(1 << 20):
            h.update(chunk)
    downloads[key] = {"md5": h.hexdigest(), "totalParts": info["totalParts"], "contentLength": info["contentLength"]}

json.dump(
    {
        "readSetId": read_set_id,
        "status": meta["status"],
        "statusMessage": meta.get("statusMessage", ""),
        "partsUploaded": len(parts),
        "source1PartsListed": len(listed),
        "etag": meta.get("etag", {}),
        "sequenceInformation": meta.get("sequenceInformation", {}),
        "downloads": downloads,
    },
    sys.stdout,
    default=str,
)
