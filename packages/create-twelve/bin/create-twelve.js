#!/usr/bin/env node
// create-twelve: `npm create twelve@latest my-agent` runs this. For now it only
// explains itself; scaffolding a project comes later. Exit codes: 0 help or
// version, 1 nothing created yet, 2 a usage error (unknown flag, extra argument).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const HELP = `create-twelve ${version}: start a project with twelve-agents (12-factor LLM agents)

Usage:
  npm create twelve@latest [directory]
  npx create-twelve [directory]

Options:
  -h, --help     print this help and exit
  -v, --version  print the version and exit

Scaffolding a project is not available yet. Until it is, add twelve to a
project of your own:

  npm install twelve-agents zod
  npx twelve --help
`;

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
} catch (error) {
  usageError(error instanceof Error ? error.message : String(error));
}

if (parsed.values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (parsed.values.version) {
  process.stdout.write(`${version}\n`);
  process.exit(0);
}
if (parsed.positionals.length > 1) usageError(`expected at most one directory, got ${parsed.positionals.length}`);

const target = parsed.positionals[0];
process.stderr.write(
  `create-twelve: scaffolding is not available yet, so nothing was created${target ? ` in "${target}"` : ""}.\n\n${HELP}`,
);
process.exit(1);

/** @param {string} message */
function usageError(message) {
  process.stderr.write(`create-twelve: ${message}\nRun "npm create twelve@latest -- --help" for usage.\n`);
  process.exit(2);
}
