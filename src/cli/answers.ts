import { createInterface } from "node:readline";
import { abandon, approve, edit, markDone, reject, respond, result, runAgain } from "../agent/events.js";
import { TwelveError } from "../errors/index.js";
import type { By } from "../thread/event.js";
import type { Answer, HumanRequest } from "../thread/request.js";
import { MAX_JSON_DEPTH, nestedTooDeep } from "./json.js";

/** Where the CLI gets a human's decision on a request it displayed. `undefined`: nobody answered. */
export type Decide = (request: HumanRequest) => Promise<Answer | undefined>;

/** One-shot decision flags: each answers exactly the request named by `--request`. */
export interface DecisionFlags {
  approve?: boolean;
  reject?: string;
  edit?: string;
  answer?: string;
  result?: string;
  markDone?: string | boolean;
  runAgain?: boolean;
  abandon?: string;
}

export const DECISION_FLAGS: readonly (keyof DecisionFlags)[] = [
  "approve",
  "reject",
  "edit",
  "answer",
  "result",
  "markDone",
  "runAgain",
  "abandon",
];

/** `--mark-done` → `mark-done`, for messages. */
export const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function parseJsonFlag(flag: string, text: string, objectOnly = false): unknown {
  if (nestedTooDeep(text) >= 0) {
    throw new TwelveError("invalid_flag", `${flag} is too deeply nested: more than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!objectOnly || (typeof value === "object" && value !== null && !Array.isArray(value))) return value;
  } catch {
    // fall through to the error below
  }
  const want = objectOnly ? `a JSON object, e.g. '{"a":3,"b":5}'` : "JSON";
  throw new TwelveError("invalid_flag", `${flag} needs ${want}; got ${text}`);
}

/**
 * The answer the one decision flag gives for `request`, bound to its id and
 * to the digest the user passed (`--digest`, printed in the pause hint).
 */
export function flagAnswer(request: HumanRequest, flags: DecisionFlags, digest: string | undefined, by: By): Answer {
  const target = { id: request.id, ...(digest !== undefined && { argsDigest: digest }) };
  const options = { by };
  if (flags.approve) return approve(target, options);
  if (flags.edit !== undefined) {
    return edit(target, parseJsonFlag("--edit", flags.edit, true) as Record<string, unknown>, options);
  }
  if (flags.reject !== undefined) return reject(target, flags.reject, options);
  if (flags.answer !== undefined) return respond(target, flags.answer, options);
  if (flags.result !== undefined) return result(target, parseJsonFlag("--result", flags.result), options);
  if (flags.markDone !== undefined) {
    const value = typeof flags.markDone === "string" ? parseJsonFlag("--mark-done", flags.markDone) : undefined;
    return markDone(target, value, options);
  }
  if (flags.runAgain) return runAgain(target, options);
  if (flags.abandon !== undefined) return abandon(target, flags.abandon, options);
  throw new TwelveError("invalid_flag", "--request needs a decision flag (see the pause hint)");
}

/** `--yes`: approves the approval requests this invocation raised, never an uncertain step. */
export function yesAnswers(by: By): Decide {
  return async (request) => (request.kind === "approval" ? approve(request, { by }) : undefined);
}

/**
 * Answers read line by line from standard input (for scripts), each bound
 * to the request just printed: for an approval `y`/`yes`, `n <feedback>` or
 * `edit <json>`; for a question, the line is the answer; for an uncertain
 * step `done [json]`, `again` or `abandon <reason>`; for an async step, the
 * line is the result as JSON.
 */
export function stdinAnswers(by: By, input: NodeJS.ReadableStream = process.stdin): Decide {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let closed = false;
  const rl = createInterface({ input });
  rl.on("line", (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  rl.on("close", () => {
    closed = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const nextLine = (): Promise<string | undefined> =>
    lines.length > 0
      ? Promise.resolve(lines.shift())
      : closed
        ? Promise.resolve(undefined)
        : new Promise((r) => waiting.push(r));
  const options = { by };
  return async (request) => {
    const line = await nextLine();
    if (line === undefined) return undefined;
    const trimmed = line.trim();
    const cannot = (want: string): never => {
      throw new TwelveError("invalid_answer", `cannot read "${line}" as an answer to ${request.kind}; use ${want}`);
    };
    switch (request.kind) {
      case "question":
        return respond(request, line, options);
      case "async":
        return result(request, parseJsonFlag("the result line", trimmed), options);
      case "approval": {
        if (/^(y|yes|approve)$/i.test(trimmed)) return approve(request, options);
        const edited = trimmed.match(/^edit\s+(.+)$/i);
        if (edited?.[1])
          return edit(request, parseJsonFlag("edit", edited[1], true) as Record<string, unknown>, options);
        const no = trimmed.match(/^(?:n|no|reject)\b[:\s]*(.*)$/i);
        if (no) return reject(request, no[1] || "rejected", options);
        return cannot("y, n <feedback> or edit <json>");
      }
      case "uncertain": {
        const done = trimmed.match(/^(?:done|mark[_ -]done)(?:\s+(.+))?$/i);
        if (done) return markDone(request, done[1] ? parseJsonFlag("done", done[1]) : undefined, options);
        if (/^(again|run[_ -]again)$/i.test(trimmed)) return runAgain(request, options);
        const gone = trimmed.match(/^abandon\b[:\s]*(.*)$/i);
        if (gone) return abandon(request, gone[1] || "abandoned", options);
        return cannot("done [json], again or abandon <reason>");
      }
    }
  };
}

/** Interactive prompts in a terminal, each bound to the request it displays. */
export function terminalAnswers(by: By): Decide {
  return async (request) => {
    const { confirm, input, select } = await import("@inquirer/prompts");
    const options = { by };
    const shown = JSON.stringify(request.args ?? {});
    if (request.kind === "question") {
      const q = request.question ?? { text: "", format: "free_text" as const };
      if (q.format === "yes_no") return respond(request, await confirm({ message: q.text }), options);
      if (q.format === "multiple_choice" && q.choices?.length) {
        const choice = await select({ message: q.text, choices: q.choices.map((c) => ({ value: c })) });
        return respond(request, choice, options);
      }
      return respond(request, await input({ message: q.text, required: true }), options);
    }
    if (request.kind === "async") return undefined;
    if (request.kind === "uncertain") {
      const action = await select({
        message: `⚠ ${request.intent} ${shown} may or may not have run (it started; no result was recorded). Check, then:`,
        choices: [
          { name: "it ran: mark it done", value: "mark_done" },
          { name: "it did not run: run it again", value: "run_again" },
          { name: "abandon it (the agent is told it did not run)", value: "abandon" },
        ],
      });
      if (action === "mark_done") return markDone(request, undefined, options);
      if (action === "run_again") return runAgain(request, options);
      return abandon(request, await input({ message: "Why (for the agent):", required: true }), options);
    }
    const action = await select({
      message: `Approve ${request.intent} ${shown}?`,
      choices: [
        { name: "approve", value: "approve" },
        { name: "reject with feedback", value: "reject" },
        { name: "edit arguments, then approve", value: "edit" },
      ],
    });
    if (action === "approve") return approve(request, options);
    if (action === "reject") {
      return reject(request, await input({ message: "Feedback for the agent:", required: true }), options);
    }
    const text = await input({
      message: "Arguments (JSON):",
      default: shown,
      validate: (v) => {
        try {
          parseJsonFlag("the arguments", v, true);
          return true;
        } catch (error) {
          return (error as Error).message;
        }
      },
    });
    return edit(request, parseJsonFlag("the arguments", text, true) as Record<string, unknown>, options);
  };
}
