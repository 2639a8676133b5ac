import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Builds dist/ once before the suite: CLI tests run the built `twelve`
 * binary exactly as users do. Type errors are reported by `npm run
 * typecheck`; here we only need the emitted JavaScript.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  try {
    execFileSync(
      process.execPath,
      [fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url)), "-p", "tsconfig.build.json"],
      {
        cwd: root,
        stdio: "pipe",
      },
    );
  } catch {
    // tsc exits non-zero on type errors but still emits; checked just below.
  }
  if (!existsSync(`${root}/dist/cli/main.js`)) throw new Error("build failed: dist/cli/main.js was not emitted");
}
