import { join } from "node:path";
import { describe } from "vitest";
import { cliCrashSuite } from "./cli-crash.js";

const kills = Number(process.env.TWELVE_CLI_CRASH_KILLS ?? 50);

describe("CLI crash test: SQLite store", () => {
  cliCrashSuite({
    name: "sqlite",
    kills,
    spec: (dir) => join(dir, "twelve.db"),
  });
});
