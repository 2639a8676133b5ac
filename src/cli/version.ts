import { readFileSync } from "node:fs";

/** The version in twelve's package.json, two levels up from this file (dist/cli/version.js or src/cli/version.ts). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
