import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { RequestErrorCode } from "../../src/errors/index.js";
import { ERROR_CODES, type TwelveErrorCode } from "../../src/errors/index.js";
import type { ModelErrorCode } from "../../src/model/errors.js";
import type { TokenErrorCode } from "../../src/runtime/token.js";
import type { StoreInputError } from "../../src/store/errors.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .map((f) => join(root, dir, f));
}

/** The rows of docs/errors.md's table: code → [retryable, exit, http, description]. */
function docRows(): Map<string, { retryable: boolean; exit: number; http: number; description: string }> {
  const doc = readFileSync(join(root, "docs/errors.md"), "utf8");
  const rows = new Map<string, { retryable: boolean; exit: number; http: number; description: string }>();
  for (const line of doc.split("\n")) {
    // Cells split on unescaped pipes; padding (a formatter aligning the columns) is ignored.
    const cells = line
      .trim()
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim());
    const code = /^`([a-z][a-z0-9_]*)`$/.exec(cells[0] ?? "")?.[1];
    if (!code || cells.length !== 5) continue;
    expect(rows.has(code), `docs/errors.md lists ${code} twice`).toBe(false);
    rows.set(code, {
      retryable: cells[1] === "yes" ? true : cells[1] === "no" ? false : (cells[1] as never),
      exit: Number(cells[2]),
      http: Number(cells[3]),
      description: cells[4]!.replaceAll("\\|", "|"),
    });
  }
  return rows;
}

const SNAKE = /^[a-z][a-z0-9_]*$/;
const literals = (text: string) => [...text.matchAll(/"([^"\n]*)"/g)].map((m) => m[1]!).filter((s) => SNAKE.test(s));

/**
 * Every code string src/ throws, found in the text: the first argument of
 * `new <a TwelveError class>(…)`, `super("…")` in those classes, the
 * `…Code` type unions and `code: "a" | "b"` parameters, `code = "…"`
 * defaults (src/cli/json.ts) and the CLI's `[/^SQLITE_…/, "code", …]` table.
 */
function thrownCodes(): Map<string, string[]> {
  const files = sources("src").map((path) => ({ path: relative(root, path), text: readFileSync(path, "utf8") }));
  // TwelveError and its subclasses, transitively, across files.
  const classes = new Set(["TwelveError"]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { text } of files) {
      for (const m of text.matchAll(/class (\w+) extends (\w+)/g)) {
        if (classes.has(m[2]!) && !classes.has(m[1]!)) {
          classes.add(m[1]!);
          grew = true;
        }
      }
    }
  }
  const found = new Map<string, string[]>();
  const add = (code: string, where: string) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const { path, text } of files) {
    for (const m of text.matchAll(/new (\w+)\(\s*([^,)]*)/g)) {
      if (!classes.has(m[1]!)) continue;
      for (const code of literals(m[2]!)) add(code, `${path}: new ${m[1]}`);
    }
    for (const m of text.matchAll(/super\(\s*"([^"]+)"/g)) add(m[1]!, `${path}: super`);
    for (const m of text.matchAll(/(?:type \w*Code\s*=|\bcode\??:)((?:\s*\|?\s*"[^"]*")+)/g)) {
      for (const code of literals(m[1]!)) add(code, `${path}: code union`);
    }
    for (const m of text.matchAll(/\bcode\s*=\s*"([^"]+)"/g)) add(m[1]!, `${path}: code default`);
    for (const m of text.matchAll(/\[\s*\/[^\n]*?\/,\s*"([^"]+)"/g)) add(m[1]!, `${path}: SQLite code table`);
  }
  return found;
}

describe("docs/errors.md is the ERROR_CODES table", () => {
  it("lists every code of ERROR_CODES, with the same mappings and description", () => {
    const rows = docRows();
    for (const [code, row] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), `docs/errors.md is missing ${code}`).toEqual({
        retryable: row.retryable,
        exit: row.exit,
        http: row.http,
        description: row.description,
      });
    }
  });

  it("lists no code that ERROR_CODES does not have", () => {
    const extra = [...docRows().keys()].filter((code) => !Object.hasOwn(ERROR_CODES, code));
    expect(extra).toEqual([]);
  });
});

describe("every code thrown in src/ is in ERROR_CODES", () => {
  const found = thrownCodes();

  it("the scan finds the throw sites (it is not silently empty)", () => {
    for (const code of ["thread_not_found", "already_answered", "token_expired", "rate_limited", "invalid_cursor"]) {
      expect(found.has(code), code).toBe(true);
    }
    for (const code of ["store_busy", "sqlite_driver", "invalid_flag", "interrupted", "model_error"]) {
      expect(found.has(code), code).toBe(true);
    }
    expect(found.size).toBeGreaterThan(50);
  });

  it("no code is thrown that the table does not list", () => {
    const unlisted = [...found].filter(([code]) => !Object.hasOwn(ERROR_CODES, code));
    expect(Object.fromEntries(unlisted)).toEqual({});
  });

  // config_error stays listed for agent authors' own settings (examples/deploybot throws it); twelve itself
  // throws the specific codes instead.
  const FOR_AUTHORS = ["config_error"];

  it("no code in the table is dead: each is thrown somewhere in src/ (or is kept for agent authors)", () => {
    const dead = Object.keys(ERROR_CODES).filter((code) => !found.has(code) && !FOR_AUTHORS.includes(code));
    expect(dead).toEqual([]);
  });

  it("config_error is gone from twelve itself: every library and CLI site throws a specific code", () => {
    expect(found.get("config_error") ?? []).toEqual([]);
  });
});

// The subclasses' code unions are subsets of the table (a compile-time check, run by tsc).
type Assert<T extends true> = T;
type Subset<A, B> = [A] extends [B] ? true : false;
type CodeUnionsAreInTheTable = [
  Assert<Subset<RequestErrorCode, TwelveErrorCode>>,
  Assert<Subset<TokenErrorCode, TwelveErrorCode>>,
  Assert<Subset<ModelErrorCode, TwelveErrorCode>>,
  Assert<Subset<ConstructorParameters<typeof StoreInputError>[0], TwelveErrorCode>>,
];

it("the subclasses' code unions (RequestError, TokenError, ModelError, StoreInputError) are in the table", () => {
  const checked: CodeUnionsAreInTheTable = [true, true, true, true];
  expect(checked).toHaveLength(4);
});
