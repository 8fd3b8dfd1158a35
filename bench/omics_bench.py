#!/usr/bin/env python3
"""Client side of bench/ingest.sh: drives seqstore through boto3 as a user of
AWS HealthOmics would, and prints what it measured as one JSON object.

Subcommands:
  create-store NAME            CreateSequenceStore; prints {"id": ...}
  ingest ...                   direct upload of one read set, timed from
                               CreateMultipartReadSetUpload to ACTIVE
  download ...                 GetReadSet of every part of one file, in
                               parallel like AWS's transfer manager
  import-job ...               StartReadSetImportJob of one source, timed
                               until the job ends, while a second thread
                               times GetSequenceStore calls (API latency
                               under import)
  export-job ...               StartReadSetExportJob of read sets, timed
                               until the job ends
  reference-import ...         CreateReferenceStore and StartReferenceImportJob
                               of one FASTA, timed until the job ends

The endpoint comes from --endpoint, the root key from SEQSTORE_ACCESS_KEY_ID
and SEQSTORE_SECRET_ACCESS_KEY. Host-prefix injection is turned off, so the
calls reach the endpoint as given.
"""

import argparse
import concurrent.futures
import json
import os
import sys
import threading
import time

import boto3
from botocore.config import Config

# HealthOmics' direct-upload part size, and the parallelism of AWS's
# transfer manager (amazon-omics-tools): what a real client does.
PART_SIZE = 100 * 1024 * 1024
PARALLEL = 10
READ_CHUNK = 1 << 20


def client(args):
    key = os.environ.get("SEQSTORE_ACCESS_KEY_ID")
    secret = os.environ.get("SEQSTORE_SECRET_ACCESS_KEY")
    if not key or not secret:
        sys.exit("omics_bench: set SEQSTORE_ACCESS_KEY_ID and SEQSTORE_SECRET_ACCESS_KEY")
    return boto3.client(
        "omics",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(
            inject_host_prefix=False,
            max_pool_connections=PARALLEL * 2,
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
            read_timeout=900,
        ),
    )


def create_store(args):
    omics = client(args)
    extra = {"sseConfig": {"type": "KMS"}} if args.sse else {}
    out = omics.create_sequence_store(name=args.name, **extra)
    print(json.dumps({"id": out["id"]}))


def parts_of(path, source):
    """The (source, partNumber, offset, length) of each part of a file."""
    size = os.path.getsize(path)
    if size == 0:
        sys.exit(f"omics_bench: {path} is empty")
    parts = []
    for number, offset in enumerate(range(0, size, PART_SIZE), start=1):
        parts.append((source, number, offset, min(PART_SIZE, size - offset)))
    return parts


def ingest(args):
    omics = client(args)
    files = {"SOURCE1": args.source1}
    if args.source2:
        files["SOURCE2"] = args.source2
    jobs = []
    for source, path in files.items():
        jobs += [(path,) + part for part in parts_of(path, source)]
    create = dict(
        sequenceStoreId=args.store,
        sourceFileType=args.type,
        subjectId=args.subject,
        sampleId=args.sample,
        name=args.name,
    )
    if args.reference_arn:
        create["referenceArn"] = args.reference_arn

    t0 = time.monotonic()
    upload_id = omics.create_multipart_read_set_upload(**create)["uploadId"]

    def upload(job):
        path, source, number, offset, length = job
        with open(path, "rb") as f:
            f.seek(offset)
            body = f.read(length)
        out = omics.upload_read_set_part(
            sequenceStoreId=args.store,
            uploadId=upload_id,
            partSource=source,
            partNumber=number,
            payload=body,
        )
        return {"partNumber": number, "partSource": source, "checksum": out["checksum"]}

    # Parts go up in file order, at most PARALLEL at a time across both
    # sources, as the transfer manager does.
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        parts = list(pool.map(upload, jobs))
    t_uploaded = time.monotonic()
    read_set_id = omics.complete_multipart_read_set_upload(
        sequenceStoreId=args.store, uploadId=upload_id, parts=parts
    )["readSetId"]
    t_completed = time.monotonic()

    polls = 0
    while True:
        meta = omics.get_read_set_metadata(sequenceStoreId=args.store, id=read_set_id)
        polls += 1
        if meta["status"] == "ACTIVE":
            break
        if meta["status"] not in ("PROCESSING_UPLOAD", "ACTIVATING"):
            sys.exit(
                f"omics_bench: read set {read_set_id} became {meta['status']}: {meta.get('statusMessage', '')}"
            )
        if time.monotonic() - t0 > args.timeout:
            sys.exit(f"omics_bench: read set {read_set_id} not ACTIVE after {args.timeout}s")
        time.sleep(args.poll)
    t_active = time.monotonic()

    meta.pop("ResponseMetadata", None)
    print(
        json.dumps(
            {
                "seconds": t_active - t0,
                "upload_seconds": t_uploaded - t0,
                "complete_seconds": t_completed - t_uploaded,
                "activate_seconds": t_active - t_completed,
                "parts": len(parts),
                "bytes": sum(job[4] for job in jobs),
                "polls": polls,
                "readSetId": read_set_id,
                "uploadId": upload_id,
                "metadata": meta,
            },
            default=str,
        )
    )


def download(args):
    omics = client(args)
    meta = omics.get_read_set_metadata(sequenceStoreId=args.store, id=args.readset)
    info = meta["files"][args.file.lower()]
    total_parts, part_size, length = info["totalParts"], info["partSize"], info["contentLength"]

    discard = args.out == os.devnull
    fd = None if discard else os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    received = [0] * total_parts
    lock = threading.Lock()

    def fetch(number):
        body = omics.get_read_set(
            sequenceStoreId=args.store, id=args.readset, file=args.file, partNumber=number
        )["payload"]
        offset = (number - 1) * part_size
        n = 0
        while True:
            chunk = body.read(READ_CHUNK)
            if not chunk:
                break
            if fd is not None:
                os.pwrite(fd, chunk, offset + n)
            n += len(chunk)
        body.close()
        with lock:
            received[number - 1] = n
        return n

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(PARALLEL, total_parts)) as pool:
        list(pool.map(fetch, range(1, total_parts + 1)))
    seconds = time.monotonic() - t0
    if fd is not None:
        os.close(fd)

    got = sum(received)
    if got != length:
        sys.exit(f"omics_bench: downloaded {got} bytes of {args.file}, metadata says {length}")
    for number, n in enumerate(received, start=1):
        want = min(part_size, length - (number - 1) * part_size)
        if n != want:
            sys.exit(f"omics_bench: part {number} of {args.file} has {n} bytes, want {want}")
    print(json.dumps({"seconds": seconds, "bytes": got, "parts": total_parts, "partSize": part_size}))


ROLE_ARN = "arn:aws:iam::123456789012:role/seqstore-bench"


def probe_latency(omics, store, stop, samples):
    """GetSequenceStore every 20 ms until stop is set, recording each call's
    latency in seconds."""
    while not stop.is_set():
        t0 = time.perf_counter()
        omics.get_sequence_store(id=store)
        samples.append(time.perf_counter() - t0)
        stop.wait(0.02)


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def wait_job(get, timeout, poll):
    deadline = time.monotonic() + timeout
    while True:
        job = get()
        if job["status"] not in ("SUBMITTED", "IN_PROGRESS"):
            return job
        if time.monotonic() > deadline:
            sys.exit(f"omics_bench: job still {job['status']} after {timeout} s")
        time.sleep(poll)


def server_histogram(admin, operation):
    """The server's own latency histogram of an operation, from its
    /metrics: {upper bound in seconds: cumulative count}."""
    import urllib.request
    buckets = {}
    with urllib.request.urlopen(admin + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if not line.startswith("seqstore_http_request_duration_seconds_bucket{"):
                continue
            if f'operation="{operation}"' not in line or 'code="200"' not in line:
                continue
            le = line.split('le="')[1].split('"')[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets[bound] = buckets.get(bound, 0) + float(line.rsplit(" ", 1)[1])
    return buckets


def histogram_p99(before, after):
    """The upper bound of the bucket holding the 99th percentile of the
    calls made between two scrapes, in milliseconds."""
    delta = {b: after.get(b, 0) - before.get(b, 0) for b in after}
    total = delta.get(float("inf"), 0)
    if total <= 0:
        return None
    for bound in sorted(delta):
        if delta[bound] >= 0.99 * total:
            return bound * 1000
    return None


def import_job(args):
    omics = client(args)
    probe = client(args)
    source = {
        "sourceFiles": {"source1": args.source1},
        "sourceFileType": args.type,
        "subjectId": "bench-subject",
        "sampleId": "bench-sample",
        "name": args.name,
    }
    if args.source2:
        source["sourceFiles"]["source2"] = args.source2
    if args.reference_arn:
        source["referenceArn"] = args.reference_arn
    before = server_histogram(args.admin, "GetSequenceStore") if args.admin else {}
    stop, samples = threading.Event(), []
    prober = threading.Thread(target=probe_latency, args=(probe, args.store, stop, samples))
    if not args.no_probe:
        prober.start()
    t0 = time.perf_counter()
    started = omics.start_read_set_import_job(sequenceStoreId=args.store, roleArn=ROLE_ARN, sources=[source])
    job = wait_job(lambda: omics.get_read_set_import_job(sequenceStoreId=args.store, id=started["id"]), args.timeout, args.poll)
    seconds = time.perf_counter() - t0
    stop.set()
    if not args.no_probe:
        prober.join()
    server_p99 = histogram_p99(before, server_histogram(args.admin, "GetSequenceStore")) if args.admin else None
    src = job["sources"][0]
    if job["status"] != "COMPLETED":
        sys.exit(f"omics_bench: import {job['status']}: {src.get('statusMessage')}")
    md = omics.get_read_set_metadata(sequenceStoreId=args.store, id=src["readSetId"])
    print(json.dumps({
        "seconds": seconds,
        "jobId": started["id"],
        "readSetId": src["readSetId"],
        "readCount": md["sequenceInformation"]["totalReadCount"],
        "baseCount": md["sequenceInformation"]["totalBaseCount"],
        "etag": md["etag"],
        "apiCalls": len(samples),
        "apiP50Ms": (percentile(samples, 0.50) or 0) * 1000,
        "apiP99Ms": (percentile(samples, 0.99) or 0) * 1000,
        "apiMaxMs": (max(samples) if samples else 0) * 1000,
        "serverP99BoundMs": server_p99,
    }))


def reference_import(args):
    """A reference store, and a reference import of one FASTA into it, timed
    from StartReferenceImportJob until the job ends."""
    omics = client(args)
    store = omics.create_reference_store(name=args.store_name)["id"]
    t0 = time.perf_counter()
    started = omics.start_reference_import_job(referenceStoreId=store, roleArn=ROLE_ARN,
                                               sources=[{"sourceFile": args.source, "name": args.name}])
    job = wait_job(lambda: omics.get_reference_import_job(referenceStoreId=store, id=started["id"]), args.timeout, args.poll)
    seconds = time.perf_counter() - t0
    src = job["sources"][0]
    if job["status"] != "COMPLETED":
        sys.exit(f"omics_bench: reference import {job['status']}: {src.get('statusMessage')}")
    md = omics.get_reference_metadata(referenceStoreId=store, id=src["referenceId"])
    print(json.dumps({"seconds": seconds, "referenceArn": md["arn"], "md5": md["md5"]}))


def export_job(args):
    omics = client(args)
    t0 = time.perf_counter()
    started = omics.start_read_set_export_job(sequenceStoreId=args.store, roleArn=ROLE_ARN, destination=args.destination,
                                             sources=[{"readSetId": r} for r in args.readset])
    job = wait_job(lambda: omics.get_read_set_export_job(sequenceStoreId=args.store, id=started["id"]), args.timeout, args.poll)
    seconds = time.perf_counter() - t0
    if job["status"] != "COMPLETED":
        sys.exit(f"omics_bench: export {job['status']}: {job.get('readSets')}")
    print(json.dumps({"seconds": seconds, "jobId": started["id"]}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True, help="seqstore URL, e.g. http://127.0.0.1:9393")
    p.add_argument("--region", default="us-east-1")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("create-store")
    c.add_argument("name")
    c.add_argument("--sse", action="store_true", help="encrypted at rest with the server's default key")
    c.set_defaults(run=create_store)

    i = sub.add_parser("ingest")
    i.add_argument("--store", required=True)
    i.add_argument("--type", required=True, choices=["FASTQ", "BAM", "CRAM", "UBAM"])
    i.add_argument("--source1", required=True)
    i.add_argument("--source2")
    i.add_argument("--reference-arn")
    i.add_argument("--name", default="bench")
    i.add_argument("--subject", default="bench-subject")
    i.add_argument("--sample", default="bench-sample")
    i.add_argument("--poll", type=float, default=0.05, help="seconds between GetReadSetMetadata polls")
    i.add_argument("--timeout", type=float, default=3600)
    i.set_defaults(run=ingest)

    d = sub.add_parser("download")
    d.add_argument("--store", required=True)
    d.add_argument("--readset", required=True)
    d.add_argument("--file", default="SOURCE1", choices=["SOURCE1", "SOURCE2", "INDEX"])
    d.add_argument("--out", default=os.devnull, help="file to write, or /dev/null to discard")
    d.set_defaults(run=download)

    j = sub.add_parser("import-job")
    j.add_argument("--store", required=True)
    j.add_argument("--type", required=True, choices=["FASTQ", "BAM", "CRAM", "UBAM"])
    j.add_argument("--source1", required=True)
    j.add_argument("--source2")
    j.add_argument("--reference-arn")
    j.add_argument("--name", default="bench-import")
    j.add_argument("--no-probe", action="store_true", help="do not call GetSequenceStore during the job (another probe measures the API)")
    j.add_argument("--admin", help="URL of the server's admin listener, to read its own GetSequenceStore latency histogram")
    j.add_argument("--poll", type=float, default=0.05)
    j.add_argument("--timeout", type=float, default=3600)
    j.set_defaults(run=import_job)

    e = sub.add_parser("export-job")
    e.add_argument("--store", required=True)
    e.add_argument("--destination", required=True)
    e.add_argument("--readset", required=True, action="append")
    e.add_argument("--poll", type=float, default=0.05)
    e.add_argument("--timeout", type=float, default=3600)
    e.set_defaults(run=export_job)

    r = sub.add_parser("reference-import")
    r.add_argument("--source", required=True, help="the FASTA's URI, e.g. file:///data/ref.fa under the server's -file-root")
    r.add_argument("--name", default="bench-reference")
    r.add_argument("--store-name", default="bench-references")
    r.add_argument("--poll", type=float, default=0.05)
    r.add_argument("--timeout", type=float, default=3600)
    r.set_defaults(run=reference_import)

    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
