import pg from "pg";
import { afterAll, describe } from "vitest";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { crashSuite } from "./crash-suite.js";

if (!reportPgSkip("crash test: PostgreSQL store")) {
  const schema = freshSchema("crash");
  const url = new URL(PG_URL as string);
  url.searchParams.set("schema", schema);
  describe("crash test: PostgreSQL store", () => {
    afterAll(async () => {
      // Dropped whether the test passed or not, so failed runs leave nothing behind.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    crashSuite({ name: "postgres", spec: () => url.toString(), kills: 50, maxDelayMs: 500 });
  });
}
