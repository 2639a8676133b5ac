import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

// The bench's own tests: npx vitest run --config bench/vitest.config.ts
export default defineConfig({
  resolve: {
    alias: [
      { find: /^twelve-agents$/, replacement: src("index.ts") },
      { find: /^twelve-agents\/testing$/, replacement: src("testing.ts") },
    ],
  },
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["peers/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
