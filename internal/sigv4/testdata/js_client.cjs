// Runs the omics client of the AWS SDK for JavaScript v3 against a
// seqstore test server, host prefixes and all, so the Go tests can check
// that the verifier accepts what the JS SDK signs. Reads a JSON spec on
// stdin: {"sdkDir": the folder holding node_modules, "endpoint", "region",
// "accessKey", "secret", "partQuarter"}; prints {"calls": [{op, error}]}.
"use strict";
const http = require("node:http");
const path = require("node:path");
const { createRequire } = require("node:module");
const { Readable } = require("node:stream");

async function main() {
  const spec = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const sdk = createRequire(path.join(spec.sdkDir, "package.json"));
  const omics = sdk("@aws-sdk/client-omics");
  const { NodeHttpHandler } = sdk("@smithy/node-http-handler");
  const { SignatureV4 } = sdk("@smithy/signature-v4");
  const { Sha256 } = sdk("@aws-crypto/sha256-js");

  // Every host name is the test server: the client keeps its prefixes.
  const lookup = (host, opts, cb) =>
    opts && opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);
  const credentials = { accessKeyId: spec.accessKey, secretAccessKey: spec.secret };
  const client = new omics.OmicsClient({
    endpoint: spec.endpoint,
    region: spec.region,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup }) }),
  });

  const store = "1234567890";
  const arn = "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890";
  const part = Buffer.from("ACGT".repeat(spec.partQuarter));
  const calls = [
    ["GetSequenceStore", () => new omics.GetSequenceStoreCommand({ id: store })],
    ["ListReadSets", () => new omics.ListReadSetsCommand({ sequenceStoreId: store, maxResults: 5, nextToken: "next/token==",
      filter: { status: "ACTIVE", name: "a  b" } })],
    ["TagResource", () => new omics.TagResourceCommand({ resourceArn: arn, tags: { team: "genomics" } })],
    ["UntagResource", () => new omics.UntagResourceCommand({ resourceArn: arn, tagKeys: ["zeta", "alpha"] })],
    // A stream body: signed as UNSIGNED-PAYLOAD, without X-Amz-Content-Sha256.
    ["UploadReadSetPart(stream)", () => new omics.UploadReadSetPartCommand({ sequenceStoreId: store, uploadId: "1111111111",
      partSource: "SOURCE1", partNumber: 1, payload: Readable.from([part]) })],
    // A byte-array body: signed over its SHA-256, again without the header.
    ["UploadReadSetPart(bytes)", () => new omics.UploadReadSetPartCommand({ sequenceStoreId: store, uploadId: "1111111111",
      partSource: "SOURCE1", partNumber: 2, payload: new Uint8Array(part) })],
    ["GetReadSet", () => new omics.GetReadSetCommand({ sequenceStoreId: store, id: "2222222222", partNumber: 1, file: "SOURCE1" })],
  ];
  const out = [];
  for (const [op, make] of calls) {
    try {
      const res = await client.send(make());
      if (res.payload && res.payload.transformToByteArray) await res.payload.transformToByteArray();
      out.push({ op, error: "" });
    } catch (err) {
      out.push({ op, error: String(err && (err.name + ": " + err.message)) });
    }
  }

  // The bare signer (@smithy/signature-v4) with applyChecksum off, as
  // clients configure it that send no X-Amz-Content-Sha256 header: it signs
  // a stream as UNSIGNED-PAYLOAD and a byte array over its SHA-256.
  const url = new URL(spec.endpoint);
  const signer = new SignatureV4({ credentials, region: spec.region, service: "omics", sha256: Sha256 });
  const headerless = new SignatureV4({ credentials, region: spec.region, service: "omics", sha256: Sha256, applyChecksum: false });
  const send = (req, body) =>
    new Promise((resolve, reject) => {
      const qs = new URLSearchParams(req.query || {}).toString();
      const r = http.request({ host: "127.0.0.1", port: url.port, method: req.method, path: req.path + (qs ? "?" + qs : ""), headers: req.headers }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error("status " + res.statusCode))));
      });
      r.on("error", reject);
      r.end(body);
    });
  for (const [op, partNumber, signedBody] of [
    ["BareSignerUploadReadSetPart(stream)", "3", Readable.from([part])],
    ["BareSignerUploadReadSetPart(bytes)", "4", new Uint8Array(part)],
  ]) {
    try {
      const signed = await headerless.sign({
        method: "PUT", protocol: "http:", hostname: "storage-" + url.hostname, port: Number(url.port),
        path: "/sequencestore/" + store + "/upload/1111111111/part", query: { partSource: "SOURCE1", partNumber },
        headers: { host: "storage-" + url.host, "content-length": String(part.length) }, body: signedBody,
      });
      await send(signed, part);
      out.push({ op, error: "" });
    } catch (err) {
      out.push({ op, error: String(err) });
    }
  }

  // A URL presigned by the JS signer.
  try {
    const presigned = await signer.presign({
      method: "GET", protocol: "http:", hostname: "control-storage-" + url.hostname, port: Number(url.port),
      path: "/sequencestore/" + store + "/readset/2222222222/metadata", query: {},
      headers: { host: "control-storage-" + url.host },
    }, { expiresIn: 600 });
    const qs = new URLSearchParams(presigned.query).toString();
    await new Promise((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: url.port, path: presigned.path + "?" + qs, headers: { host: presigned.headers.host } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error("status " + res.statusCode))));
      }).on("error", reject);
    });
    out.push({ op: "PresignedGetReadSetMetadata", error: "" });
  } catch (err) {
    out.push({ op: "PresignedGetReadSetMetadata", error: String(err) });
  }
  console.log(JSON.stringify({ calls: out }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
