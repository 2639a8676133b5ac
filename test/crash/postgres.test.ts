import { describe } from "vitest";
import { PostgresThreadStore } from "../../src/store/postgres/index.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { crashSuite } from "./crash-suite.js";

if (!reportPgSkip("crash test: PostgreSQL store")) {
  const schema = freshSchema("crash");
  const url = new URL(PG_URL as string);
  url.searchParams.set("schema", schema);
  describe("crash test: PostgreSQL store", () => {
    crashSuite({
      name: "postgres",
      spec: () => url.toString(),
      kills: 50,
      maxDelayMs: 500,
      cleanup: async (store) => {
        if (store instanceof PostgresThreadStore) await store.dropSchema();
      },
    });
  });
}
