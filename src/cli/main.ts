#!/usr/bin/env node

import { isatty } from "node:tty";
import { Command, Option } from "commander";
import { exitCodeOf, isTwelveError, TwelveError } from "../errors/index.js";
import { type CliIO, runCommand } from "./commands/run.js";
import { serveCommand } from "./commands/serve.js";
import { threadsCommand } from "./commands/threads.js";
import { EXIT, EXIT_CODES_HELP, explainError, isPromptExit } from "./errors.js";
import { output } from "./output.js";
import { packageVersion } from "./version.js";

// Ctrl-C and SIGTERM abort the run, which gives the thread's lease back before the process exits.
const interrupt = new AbortController();
for (const name of ["SIGINT", "SIGTERM"] as const) {
  process.once(name, () => interrupt.abort(new TwelveError("interrupted", `interrupted (${name})`)));
}

// Every write goes through these, so the CLI can wait for a pipe to take all of it before it exits.
// When standard output cannot be written (the reader went away: `| head -1`), a run stops as on
// Ctrl-C (its lease is given back) and nothing more is printed.
const stdout = output(process.stdout, (error) => {
  if (!interrupt.signal.aborted) {
    interrupt.abort(
      new TwelveError("output_closed", `standard output cannot be written (${error.code ?? error.message})`),
    );
  }
});
const stderr = output(process.stderr);

/** The reader of standard output went away, as opposed to a write that failed (disk full). */
const readerGone = (error: NodeJS.ErrnoException) =>
  error.code === "EPIPE" || error.code === "ECONNRESET" || error.code === "ERR_STREAM_DESTROYED";

function io(): CliIO {
  return {
    signal: interrupt.signal,
    stdout: (t) => stdout.write(t),
    stderr: (t) => stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    // isatty, not process.stdin.isTTY: creating the stdin stream would set a shared pipe non-blocking.
    interactive: isatty(0) && isatty(1),
    color: isatty(1) && !process.env.NO_COLOR,
    live: isatty(1) && process.env.TERM !== "dumb",
    columns: () => process.stdout.columns,
  };
}

export function program(setExitCode: (code: number) => void = () => {}): Command {
  const cli = new Command("twelve")
    .description("Build, run and resume 12-factor agents.")
    .version(packageVersion(), "-v, --version", "print the version of twelve")
    .configureOutput({ writeOut: (t) => stdout.write(t), writeErr: (t) => stderr.write(t) })
    .helpCommand(false)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText("after", `${EXIT_CODES_HELP}\nMore: docs/cli.md in the installed package`);

  cli
    .command("run")
    .description("Run an agent on a message (or resume a saved thread) in the terminal")
    .argument("<agent>", "agent module (.ts or .js) exporting an agent made with defineAgent()")
    .argument("[message]", "the user's message that starts the thread (or continues a finished one)")
    .option("-m, --model <spec>", "model to use, e.g. script:steps.json, replay:cassette.json (default: $TWELVE_MODEL)")
    .option("-t, --thread <id>", "resume the saved thread with this id")
    .option(
      "--store <spec>",
      "thread store: SQLite file, sqlite:<path> or postgres:// URL (default: $TWELVE_STORE or .twelve/twelve.db)",
    )
    .option("--request <id>", "the request a decision flag answers (printed when the thread paused)")
    .option(
      "--digest <digest>",
      "digest of the arguments you were shown (printed with approvals; refuses if they changed)",
    )
    .option("--approve", "approve the request named by --request")
    .option("--reject <feedback>", "reject the request with feedback for the agent")
    .option("--edit <json>", "approve the request with edited arguments (JSON object)")
    .option("--answer <text>", "answer the question named by --request")
    .option("--result <json>", "give the result an async step waits for")
    .option("--mark-done [json]", "uncertain step: it ran (optionally with its result as JSON)")
    .option("--run-again", "uncertain step: it did not run; run it again")
    .option("--abandon <reason>", "uncertain step: do not run it; the agent is told it did not run")
    .option("-y, --yes", "approve the approval requests this invocation raises (never an uncertain step)")
    .option(
      "--stdin",
      "answer the requests this invocation raises from standard input, one line each (y | n <feedback> | edit <json> | text | done | again | abandon <reason>)",
    )
    .addOption(new Option("--no-input", "never prompt; pause and print how to resume instead"))
    .addHelpText(
      "after",
      `${EXIT_CODES_HELP}\n\nThreads are saved in the store (.twelve/twelve.db by default). A paused thread prints the request it waits on and the exact command that answers it (--request <id> [--digest <d>] and one decision); --thread <id> continues or shows a thread. Answers are recorded as $TWELVE_USER (default: your OS user).`,
    )
    .action(async (agent: string, message: string | undefined, options) => {
      setExitCode(await runCommand(agent, message, options, io()));
    });

  cli
    .command("serve")
    .description("Serve agents over HTTP (the /v1 API) with an in-process worker; SIGTERM drains and exits 0")
    .argument("[agents...]", "agent modules (.ts or .js) to serve, besides those in twelve.config.ts")
    .option("-m, --model <spec>", "model for every agent (default: the config's, $TWELVE_MODEL, the module's export)")
    .option("-p, --port <port>", "port to listen on (default: $TWELVE_PORT or 8787; 0 picks a free one)")
    .option("--host <host>", "interface to listen on (default: $TWELVE_HOST or 127.0.0.1)")
    .option("--store <spec>", "thread store: SQLite file, sqlite:<path> or postgres:// URL (default: $TWELVE_STORE)")
    .option("-c, --config <file>", "config file (default: $TWELVE_CONFIG or ./twelve.config.ts if present)")
    .addHelpText("after", "\nEndpoints, settings and environment variables: docs/server.md in the installed package")
    .action(async (agents: string[], options) => {
      setExitCode(await serveCommand(agents, options, io()));
    });

  // `twelve threads …` parses its own arguments (and its own --help: twelve threads --help).
  cli
    .command("threads")
    .description("List, show, fork, export, import and archive stored threads (twelve threads --help)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[command]")
    .argument("[args...]")
    .action(async (_command: unknown, _args: unknown, _options: unknown, command: Command) => {
      setExitCode(await threadsCommand(command.args, io()));
    });

  cli
    .command("help")
    .description("display help for a command (twelve help threads [command])")
    .argument("[command]")
    .argument("[subcommand]")
    .action(async (name: string | undefined, sub: string | undefined) => {
      if (name === undefined) return cli.outputHelp();
      if (name === "threads") {
        setExitCode(await threadsCommand(sub ? ["help", sub] : ["--help"], io()));
        return;
      }
      const command = cli.commands.find((c) => c.name() === name && name !== "help");
      if (!command)
        throw new TwelveError("invalid_flag", `unknown command "${name}"; the commands are run, serve and threads`);
      command.outputHelp();
    });

  return cli;
}

async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.done;
  try {
    await program((c) => {
      code = c;
    }).parseAsync(argv);
    return code;
  } catch (error) {
    return report(error);
  }
}

/** Prints one line for an error and returns the exit code (docs/cli.md). */
function report(error: unknown): number {
  const e = error as { code?: unknown; exitCode?: unknown } | null;
  if (typeof e?.code === "string" && e.code.startsWith("commander.")) {
    // Commander printed the message (and help); --help and --version exit 0.
    return e.exitCode === 0 ? EXIT.done : EXIT.usage;
  }
  // Output that cannot be written stopped the command; the exit code says why (see the end of this file).
  if (stdout.error) return EXIT.outputClosed;
  if (interrupt.signal.aborted || isPromptExit(error) || (isTwelveError(error) && error.code === "interrupted")) {
    const told = isTwelveError(error) && error.code === "interrupted" && error.details?.threadId !== undefined;
    const message = told
      ? (error as TwelveError).message
      : "interrupted; the thread was saved up to its last step and resumes with --thread <id>";
    stderr.write(`twelve: ${message} [interrupted]\n`);
    return EXIT.interrupted;
  }
  const explained = explainError(error);
  if (explained) {
    stderr.write(`twelve: ${explained.message} [${explained.code}]\n`);
    // The exit code comes from the one error table (docs/errors.md): 2, or 4 when retrying may help.
    return exitCodeOf(explained);
  }
  stderr.write(
    `twelve: internal error (a bug; please report it with this output) [internal]\n${
      error instanceof Error ? (error.stack ?? error.message) : String(error)
    }\n`,
  );
  return EXIT.internal;
}

/** Waits until stdout and stderr took every write; a new Ctrl-C or SIGTERM stops waiting. */
async function drain(): Promise<boolean> {
  let stop: () => void = () => {};
  const signalled = new Promise<boolean>((resolve) => {
    stop = () => resolve(false);
  });
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return Promise.race([Promise.all([stdout.flush(), stderr.flush()]).then(() => true), signalled]);
}

// An error thrown outside the command (a library's stray socket error) would exit 1, which means "the thread failed".
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => {
    const code = report(error);
    void drain().then(() => process.exit(code));
  });
}

let code = await main(process.argv);
if (!(await drain())) code = EXIT.interrupted;
const failed = stdout.error;
if (failed) {
  if (readerGone(failed)) code = EXIT.outputClosed;
  else {
    stderr.write(`twelve: cannot write standard output: ${failed.message} [output_error]\n`);
    await drain();
    code = EXIT.ioError;
  }
}
// Exit explicitly: an abandoned download or an SDK keep-alive socket must not keep the CLI hanging.
process.exit(code);
