import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { crashSuite } from "./crash-suite.js";
import { sleep } from "./harness.js";

if (!reportPgSkip("crash test: PostgreSQL store")) {
  const schema = freshSchema("crash");
  // The worker's sessions carry this name, so the test can wait for the server to finish with them.
  const appName = `twelve-crash-${process.pid}`;
  const url = new URL(PG_URL as string);
  url.searchParams.set("schema", schema);
  url.searchParams.set("application_name", appName);
  describe("crash test: PostgreSQL store", () => {
    let admin: pg.Client;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
    });
    afterAll(async () => {
      // Dropped whether the test passed or not, so failed runs leave nothing behind.
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });
    crashSuite({
      name: "postgres",
      spec: () => url.toString(),
      kills: Number(process.env.TWELVE_CRASH_KILLS_PG ?? 50),
      maxDelayMs: 500,
      quiesce: async () => {
        for (let i = 0; i < 500; i++) {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
            [appName],
          );
          if (rows[0]?.n === 0) return;
          await sleep(10);
        }
        throw new Error("the killed worker's PostgreSQL sessions did not end within 5 s");
      },
    });
  });
}
