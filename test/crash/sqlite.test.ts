import { join } from "node:path";
import { describe } from "vitest";
import { crashSuite } from "./crash-suite.js";

describe("crash test: SQLite store", () => {
  crashSuite({
    name: "sqlite",
    spec: (dir) => join(dir, "twelve.db"),
    kills: Number(process.env.TWELVE_CRASH_KILLS ?? 50),
    maxDelayMs: 500,
  });
});
