// Smoke test of seqstore through the AWS SDK for JavaScript v3. The Go test
// in test/integration runs it with SEQSTORE_ENDPOINT and credentials in the
// environment; it prints one JSON line per step and exits non-zero on the
// first surprise.
import {
  OmicsClient,
  CreateSequenceStoreCommand,
  GetSequenceStoreCommand,
  ListSequenceStoresCommand,
  TagResourceCommand,
  ListTagsForResourceCommand,
  DeleteSequenceStoreCommand,
} from "@aws-sdk/client-omics";

const client = new OmicsClient({
  endpoint: process.env.SEQSTORE_ENDPOINT,
  region: process.env.AWS_REGION || "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  // Clients prepend control-storage-, storage- or tags- to the endpoint's
  // host; a local server needs them to stop.
  disableHostPrefix: true,
});

function check(cond, what) {
  if (!cond) {
    console.error("FAILED: " + what);
    process.exit(1);
  }
}

const created = await client.send(
  new CreateSequenceStoreCommand({ name: "js-smoke", description: "made by the JS SDK", tags: { team: "js" } }),
);
check(/^\d{10}$/.test(created.id), "store id has 10 digits: " + created.id);
check(created.creationTime instanceof Date, "creationTime parses as a Date");
console.log(JSON.stringify({ step: "create", id: created.id, arn: created.arn }));

const got = await client.send(new GetSequenceStoreCommand({ id: created.id }));
check(got.name === "js-smoke" && got.eTagAlgorithmFamily === "MD5up", "get returns the store");
console.log(JSON.stringify({ step: "get", name: got.name, family: got.eTagAlgorithmFamily }));

const list = await client.send(new ListSequenceStoresCommand({ filter: { name: "js-smoke" } }));
check(list.sequenceStores.some((s) => s.id === created.id), "list finds the store");
console.log(JSON.stringify({ step: "list", count: list.sequenceStores.length }));

await client.send(new TagResourceCommand({ resourceArn: created.arn, tags: { stage: "smoke" } }));
const tags = await client.send(new ListTagsForResourceCommand({ resourceArn: created.arn }));
check(tags.tags.team === "js" && tags.tags.stage === "smoke", "tags round-trip: " + JSON.stringify(tags.tags));
console.log(JSON.stringify({ step: "tags", tags: tags.tags }));

try {
  await client.send(new GetSequenceStoreCommand({ id: "9999999999" }));
  check(false, "a missing store must fail");
} catch (err) {
  check(err.name === "ResourceNotFoundException", "missing store gives ResourceNotFoundException, got " + err.name);
  check(err.$metadata.httpStatusCode === 404, "status 404");
  console.log(JSON.stringify({ step: "not-found", name: err.name, message: err.message }));
}

await client.send(new DeleteSequenceStoreCommand({ id: created.id }));
console.log(JSON.stringify({ step: "delete", ok: true }));
