// twelve with every event committed to its SQLite store (a real file, WAL) through the loop's
// `commit` hook, before anything with side effects runs. "resume" drops the thread from memory
// at every pause and loads it back from the store by id.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { approve, type Event, resume, run, type Thread, threadState } from "../../../src/index.js";
import { openSqliteStore, type SqliteSynchronous } from "../../../src/store/sqlite/index.js";
import type { Contender, Runner, RunOutcome } from "../contender.js";
import { utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { WORKLOADS, type WorkloadName } from "../workload.js";
import { benchAgent, benchModel, finalText, newThread } from "./twelve.js";

/**
 * `barrier` is the store's default: every commit reaches the WAL, and the WAL is fsynced for the
 * commits the loop flags durable (before a side effect, at a pause, at the end) — a handler's
 * result the loop continues past is not. `full` fsyncs every commit; `normal` never does (it
 * survives a process crash and shows the store's cost without the disk's fsync latency).
 */
function makeContender(id: string, label: string, synchronous: SqliteSynchronous | undefined): Contender {
  return {
    id,
    label,
    workloads: ["calc", "long", "resume"],
    async prepare(name: WorkloadName, meter: Meter): Promise<Runner> {
      const workload = WORKLOADS[name];
      const agent = benchAgent(meter, workload.approval);
      const model = benchModel(meter);
      const dir = mkdtempSync(join(tmpdir(), "bench-twelve-"));
      const store = await openSqliteStore({
        path: join(dir, "twelve.db"),
        ...(synchronous !== undefined ? { synchronous } : {}),
      });
      // The loop's commit hook: append at the version the batch was based on (optimistic
      // concurrency), passing on whether the loop needs this batch durable before it proceeds.
      const commit = async (thread: Thread, added: Event[], durable: boolean): Promise<Thread> => {
        await store.append(thread.id, added, { expectedVersion: thread.version - added.length, durable });
        return thread;
      };
      // Every column that holds event data: id, type, the JSON body, and the integer time (8 bytes when set).
      const bytesStored = (threadId: string): number => {
        const row = store.db
          .prepare(
            `SELECT coalesce(sum(length(id) + length(type) + length(body) + CASE WHEN at_ms IS NULL THEN 0 ELSE 8 END), 0)
               AS bytes FROM twelve_events WHERE thread_id = ?`,
          )
          .get(threadId) as { bytes: number };
        return row.bytes;
      };
      return {
        async run(): Promise<RunOutcome> {
          let thread = await store.create(newThread());
          thread = await run(agent, thread, { model, commit });
          while (threadState(thread).status === "awaiting_approval") {
            // Nothing is kept in memory across the pause: the thread comes back from the store.
            const loaded = await store.load(thread.id);
            thread = await resume(agent, loaded, approve(), { model, commit });
          }
          const done = thread;
          return {
            finalText: finalText(done),
            stateBytes: () => utf8Bytes(JSON.stringify(done)),
            writtenBytes: () => bytesStored(done.id),
          };
        },
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** The store's default mode (`barrier`). */
export const twelveSqlite = makeContender("twelve-sqlite", "twelve + SQLite (default: barrier)", undefined);
export const twelveSqliteFull = makeContender("twelve-sqlite-full", "twelve + SQLite (sync=FULL)", "full");
export const twelveSqliteNormal = makeContender("twelve-sqlite-normal", "twelve + SQLite (sync=NORMAL)", "normal");
