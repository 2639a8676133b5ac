/**
 * The process the inbound kill test SIGKILLs. It receives deliveries through
 * `receiveInbound` as an entry point would: each is recorded, acknowledged
 * (an `acked <id>` line), then processed (an effect line in a file). The
 * processor blocks forever on the last delivery, after its acknowledgement:
 * the moment a crash leaves a payload the sender will never send again.
 *
 * usage: node inbound-worker.mjs <store spec> <source> <deliveries JSON> <effects file>
 */
import { appendFileSync } from "node:fs";
import { receiveInbound } from "../../src/runtime/inbound.js";
import { openStore } from "../../src/store/open.js";

const [spec, source, deliveriesJson, effects] = process.argv.slice(2) as [string, string, string, string];
const deliveries = JSON.parse(deliveriesJson) as { id: string; payload: unknown; block?: boolean }[];
const store = await openStore(spec);

for (const d of deliveries) {
  await receiveInbound(
    store,
    { source, id: d.id, payload: d.payload },
    async (payload) => {
      if (d.block) {
        process.stdout.write(`blocked ${d.id}\n`);
        await new Promise(() => {});
      }
      appendFileSync(effects, `${JSON.stringify({ id: d.id, payload, by: "worker" })}\n`);
    },
    { ack: (r) => void process.stdout.write(`acked ${d.id} ${r.duplicate ? "duplicate" : "new"}\n`) },
  );
}
process.stdout.write("finished\n");
await store.close();
