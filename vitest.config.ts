import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// Suites that start many processes (crash loops, cross-process races) run in their own project,
// one file at a time, so they neither starve each other nor the unit tests of the 2 CI cores.
const multiProcess = [
  "test/crash/**/*.test.ts",
  "test/runtime/concurrency.test.ts",
  // npm pack + install into an empty project (builds better-sqlite3 there); only with TWELVE_PACK_TEST=1.
  "test/package/pack.test.ts",
];

const shared = {
  resolve: {
    // Examples import "twelve-agents" as users do; in tests that means the sources.
    alias: [
      { find: /^twelve-agents$/, replacement: src("index.ts") },
      { find: /^twelve-agents\/testing$/, replacement: src("testing.ts") },
      { find: /^twelve-agents\/(model|store|runtime)$/, replacement: src("$1/index.ts") },
    ],
  },
};

export default defineConfig({
  ...shared,
  test: {
    globalSetup: ["test/support/build.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        ...shared,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
          exclude: multiProcess,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: "multi-process",
          include: multiProcess,
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
