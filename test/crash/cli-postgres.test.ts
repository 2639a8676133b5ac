import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { cliCrashSuite } from "./cli-crash.js";
import { sleep } from "./harness.js";

const kills = Number(process.env.TWELVE_CLI_CRASH_KILLS_PG ?? process.env.TWELVE_CLI_CRASH_KILLS ?? 10);

if (!reportPgSkip("CLI crash test: PostgreSQL store")) {
  const schema = freshSchema("cli_crash");
  // Each lane's CLI sessions carry their own name, so the test can wait for the server to finish with a killed one.
  const appName = (lane: number) => `twelve-cli-crash-${process.pid}-${lane < 0 ? "check" : lane}`;
  const spec = (lane: number) => {
    const url = new URL(PG_URL as string);
    url.searchParams.set("schema", schema);
    url.searchParams.set("application_name", appName(lane));
    return url.toString();
  };
  describe("CLI crash test: PostgreSQL store", () => {
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
    cliCrashSuite({
      name: "postgres",
      kills,
      spec: (_dir, lane) => spec(lane),
      quiesce: async (lane) => {
        for (let i = 0; i < 500; i++) {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
            [appName(lane)],
          );
          if (rows[0]?.n === 0) return;
          await sleep(10);
        }
        throw new Error("the killed CLI's PostgreSQL sessions did not end within 5 s");
      },
    });
  });
}
