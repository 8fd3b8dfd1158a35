// Lists sequence stores with nothing in the code but disableHostPrefix:
// endpoint, region and credentials all come from the environment, as
// `seqstore serve` prints them on first start.
import { OmicsClient, ListSequenceStoresCommand } from "@aws-sdk/client-omics";

const client = new OmicsClient({ disableHostPrefix: true });
const out = await client.send(new ListSequenceStoresCommand({}));
console.log(JSON.stringify({ stores: out.sequenceStores.length, region: await client.config.region() }));
