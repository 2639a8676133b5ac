import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { call, json, seen, startTestServer } from "./helpers.js";

/** The server's promises that depend on the store: the workshop, and exactly one of 50 concurrent answers, on SQLite and PostgreSQL. */
const backends: { name: string; open: () => Promise<{ store: ThreadStore; dispose: () => Promise<void> }> }[] = [
  {
    name: "SQLite file",
    open: async () => {
      const store = await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "twelve-server-")), "t.db") });
      return { store, dispose: () => store.close() };
    },
  },
];
if (!reportPgSkip("server on PostgreSQL") && PG_URL) {
  const url = PG_URL;
  backends.push({
    name: "PostgreSQL",
    open: async () => {
      const store = await openPostgresStore({ url, schema: freshSchema("server") });
      return {
        store,
        dispose: async () => {
          await store.dropSchema();
          await store.close();
        },
      };
    },
  });
}

afterAll(() => {
  expect(seen.filter((s) => s.status >= 500)).toEqual([]);
});

describe.each(backends)("the server on $name", ({ open }) => {
  it("workshop, and 50 concurrent approvals of one request → exactly one execution", async () => {
    const { store, dispose } = await open();
    const server = await startTestServer({ store });
    try {
      const post = (path: string, body: unknown) => call(`${server.url}${path}`, json(body));
      const launched = (await (
        await post("/v1/agents/calculator/threads?wait=5", { message: "divide 3 by 4" })
      ).json()) as {
        id: string;
        request: { id: string; argsDigest: string };
      };
      const rejected = (await (
        await post(`/v1/requests/${launched.request.id}?wait=5`, { decision: "reject", feedback: "use 5 instead of 4" })
      ).json()) as { request: { id: string; argsDigest: string } };
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          post(`/v1/requests/${rejected.request.id}`, { decision: "approve", digest: rejected.request.argsDigest }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      await server.ctx.worker.settled(launched.id, 10_000);
      const done = await store.load(launched.id);
      expect(done.events.at(-1)).toMatchObject({ type: "done_for_now", data: { message: "0.6" } });
      expect(server.runs.divide).toBe(1);
    } finally {
      await server.shutdown();
      await dispose();
    }
  });
});
