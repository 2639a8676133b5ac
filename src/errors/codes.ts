/**
 * Every error code twelve throws, in one table: whether trying again can
 * help, the `twelve` CLI's exit code and the HTTP status a server answers.
 * The CLI and a server map errors with this table alone (`exitCodeOf`,
 * `httpStatusOf`, `isRetryable`); docs/errors.md lists the same rows, and
 * test/errors/table.test.ts fails when a code thrown in src/ is missing here.
 *
 * CLI exit codes: 0 done; 1 the thread failed (a run outcome, not an error
 * code); 2 bad input, a refused answer or configuration; 3 paused (not an
 * error); 4 retryable: temporarily unavailable (lease held, rate limited,
 * network, store busy); 130 interrupted; 141 standard output closed; 70 a
 * bug: an error that is not a TwelveError.
 *
 * HTTP: 4xx when the caller must change the request (400 bad input, 401/403
 * tokens and responders, 404 not found, 409 conflicts with the thread's
 * state, 422 well-formed but refused, 429 rate limited), 5xx when a
 * dependency failed (502/504 the model provider, 503 the store or an
 * installed package, 507 a full disk). No known code answers 500: 500 is
 * left for bugs (an error that is not a TwelveError, or a code not listed).
 */
export interface ErrorCodeInfo {
  /** Trying the same thing again later can succeed (after a reload, for conflicts). */
  readonly retryable: boolean;
  /** Exit code of the `twelve` CLI. */
  readonly exit: number;
  /** HTTP status a server answers. */
  readonly http: number;
  readonly description: string;
}

/** CLI exit codes used by the table (and by the CLI for outcomes that are not errors). */
export const EXIT_CODES = {
  done: 0,
  failed: 1,
  input: 2,
  paused: 3,
  retryable: 4,
  bug: 70,
  interrupted: 130,
  outputClosed: 141,
} as const;

const input = (http: number, description: string) => ({ retryable: false, exit: 2, http, description }) as const;
const retry = (http: number, description: string) => ({ retryable: true, exit: 4, http, description }) as const;

export const ERROR_CODES = {
  // ── Agents, threads, events ──────────────────────────────────────────────
  invalid_agent: input(
    400,
    "An agent definition (or agent module) is invalid: no name, no intents, a duplicate intent, a handler missing.",
  ),
  agent_not_found: input(
    404,
    "No agent by that name: the runtime was not given it, or the CLI cannot find the agent module.",
  ),
  agent_mismatch: input(409, "CLI: the thread belongs to another agent than the module given."),
  invalid_thread: input(400, "A thread document or thread id is malformed, or a fork point does not exist."),
  invalid_event: input(400, "An event offered to the store is malformed, or its id is already in the thread."),
  resume_mismatch: input(409, "The thread is paused for something else than the event offered to resume it."),
  unknown_intent: input(422, "The parser returned an intent the agent does not define."),
  parse_error: input(
    422,
    "A model answer could not be parsed into a step (inside the loop it becomes an error event).",
  ),
  thread_not_found: input(404, "No thread with that id."),
  thread_exists: input(409, "A thread with that id already exists."),
  thread_archived: input(409, "The thread is archived: it can be loaded and forked, not appended to."),
  version_conflict: retry(409, "The thread changed since it was loaded: reload it, then decide again."),
  lease_held: retry(409, "Another runner holds the thread's lease: try again after details.expiresAt."),
  lease_lost: retry(409, "The runner's lease expired or was taken over: its work stopped; continue the thread again."),
  idempotency_conflict: input(422, "An idempotency key was used before for a different request body."),
  inbound_not_found: input(404, "No inbound record with that source and id."),

  // ── Human requests and answers ───────────────────────────────────────────
  already_answered: input(
    409,
    "The request is no longer pending: someone answered it (details say who, when, via what).",
  ),
  request_changed: input(409, "The request's arguments changed since the answer (or its token) was made for them."),
  invalid_decision: input(422, "The request does not allow this decision, or its payload is wrong."),
  request_not_found: input(404, "No such request: malformed id, unknown thread or event, or not pending."),
  request_required: input(400, "An answer to a request must name the request (requestId)."),
  responder_refused: input(403, "The responders policy does not allow this person to answer."),

  // ── Request tokens ───────────────────────────────────────────────────────
  token_malformed: input(401, "Not a request token: it does not decode."),
  token_invalid: input(401, "The token's signature does not match: it was altered or signed elsewhere."),
  token_unknown_key: input(401, "The token was signed with a key that is not in use (rotated out)."),
  token_expired: input(401, "The token is past its expiry."),
  token_audience: input(403, "The token was made for another channel (audience)."),
  token_key_invalid: input(
    400,
    "Request-token keys or claims are unusable: no key, a short secret, duplicate key ids, bad claims.",
  ),

  // ── Models ───────────────────────────────────────────────────────────────
  rate_limited: retry(429, "The model provider rate-limited the call (details.retryAfterMs when it said how long)."),
  timeout: retry(504, "The model call timed out."),
  server: retry(502, "The model provider failed (5xx) or sent a malformed response."),
  network: retry(502, "The model provider cannot be reached (connection refused, DNS, a stalled download)."),
  auth: input(502, "The model provider refused the API key (401/403 upstream; the caller's own credentials are fine)."),
  bad_request: input(
    502,
    "The model provider refused the request (4xx upstream) or answered with neither text nor tool calls.",
  ),
  aborted: {
    retryable: true,
    exit: EXIT_CODES.interrupted,
    http: 503,
    description: "The caller's abort signal stopped the model call; the thread is saved and resumes.",
  },
  model_error: input(502, "A scripted or rules model answered with an error that names no code."),
  model_config: input(
    400,
    "A model is misconfigured: an API key is missing, a model spec is incomplete, a model file is missing or unloadable, a replayed model to record.",
  ),
  unknown_model_scheme: input(
    400,
    "The model spec names an unknown scheme (use script:, rules:, replay:, openai:, openai-compatible:, anthropic:, local:).",
  ),
  model_script_invalid: input(400, "A model script file cannot be read, is not JSON, or is not an array of answers."),
  script_exhausted: input(400, "A scripted model was called more times than it has answers."),
  script_unused: input(400, "A scripted model still has answers left when the test expected it to be done."),
  rules_invalid: input(400, "A rules model (inline or file) cannot be read or is invalid."),
  rules_need_thread: input(400, "A rules model was called without a thread to match its rules against."),
  rules_no_match: input(400, "No rule of the rules model matches the thread."),
  rules_template: input(400, "A rule's {{placeholder}} has no value in this thread."),
  cassette_invalid: input(400, "A cassette file is missing, unreadable, not JSON, or not a version 1 cassette."),
  replay_miss: input(400, "The cassette holds no recorded answer for this request."),
  missing_dependency: input(
    503,
    "An optional package is not installed (openai, @anthropic-ai/sdk, node-llama-cpp, pg, better-sqlite3).",
  ),

  // ── Stores ───────────────────────────────────────────────────────────────
  store_config: input(
    400,
    "A store is misconfigured: an unknown store URL, a bad schema name or option, no connection url.",
  ),
  store_incompatible: input(
    503,
    "The database is not a twelve store, or was migrated by a newer twelve: upgrade twelve or use another store.",
  ),
  store_corrupt: input(
    503,
    "What the store holds cannot be read: a damaged file, a row with invalid JSON, a missing event.",
  ),
  store_unavailable: retry(503, "The store cannot be reached or opened right now."),
  store_busy: retry(503, "The store is locked by another process (SQLITE_BUSY)."),
  store_readonly: input(503, "The store is read-only for this user."),
  store_full: input(507, "The disk holding the store is full."),
  store_io_error: input(503, "The store could not be read or written (an I/O error)."),
  transaction_aborted: input(
    503,
    "A statement failed inside a PostgreSQL transaction and its error was caught: the transaction rolled back.",
  ),
  side_rows_async: input(
    400,
    "A sideRows hook returned a promise to the SQLite store, whose transactions are synchronous.",
  ),
  invalid_cursor: input(400, "A list cursor is not the nextCursor of a previous page."),
  invalid_input: input(
    400,
    "An argument to a twelve function is malformed (a limit, a date, a key, a payload, a message a model adapter cannot send).",
  ),
  sqlite_driver: input(
    503,
    "The SQLite driver (better-sqlite3) cannot load its native module: rebuild it or use another store.",
  ),

  // ── HTTP server ──────────────────────────────────────────────────────────
  invalid_json: input(400, "Server: the request body is not valid JSON."),
  unsupported_media_type: input(415, "Server: the request body is not JSON (Content-Type must be application/json)."),
  payload_too_large: input(413, "Server: the request body is larger than the configured limit (server.bodyLimit)."),
  route_not_found: input(404, "Server: no endpoint at this method and path."),
  unauthorized: input(401, "Server: the API key is missing, malformed or unknown (Authorization: Bearer <key>)."),
  forbidden: input(403, "Server: the API key may not do this (read-only, or limited to other agents)."),
  loopback_only: input(403, "Server: no API key is configured, so /v1 answers only on the loopback interface."),
  busy: retry(409, "Server: the thread is running right now; try again once it pauses or ends."),
  request_pending: input(
    409,
    "Server: the thread waits on a request; answer it, or send the message naming the request it rejects.",
  ),
  draining: retry(503, "Server: shutting down; retry (another instance takes the call)."),

  // ── Configuration, CLI, I/O ──────────────────────────────────────────────
  config_error: input(
    400,
    "Kept for agent authors' own configuration errors (examples/deploybot); twelve itself throws the specific codes.",
  ),
  config_invalid: input(
    400,
    "A twelve.config.ts setting (or the environment variable that sets it) is invalid, or the file fails to load.",
  ),
  config_not_found: input(400, "The config file named by --config or $TWELVE_CONFIG does not exist."),
  invalid_flag: input(400, "CLI: a flag, an environment variable or a command is invalid."),
  invalid_answer: input(400, "CLI: an answer typed or piped in cannot be read as a decision."),
  too_deeply_nested: input(400, "A value is nested too deeply to process."),
  io_error: input(503, "A file cannot be read or written (permissions, a missing directory, no space)."),
  network_error: retry(
    503,
    "CLI: a server twelve needs (a PostgreSQL store) cannot be reached (ECONNREFUSED, ENOTFOUND, …).",
  ),
  interrupted: {
    retryable: true,
    exit: EXIT_CODES.interrupted,
    http: 503,
    description: "Ctrl-C or SIGTERM stopped the command: the thread is saved and resumes.",
  },
  output_closed: {
    retryable: false,
    exit: EXIT_CODES.outputClosed,
    http: 499,
    description: "CLI: the reader of standard output went away (| head); the rest of the output is dropped.",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** The closed set of codes: every code twelve throws on purpose. */
export type TwelveErrorCode = keyof typeof ERROR_CODES;

/** The table's row for `code`, or undefined for a code it does not list. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as TwelveErrorCode] : undefined;
}

export function isErrorCode(code: unknown): code is TwelveErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/**
 * What a TwelveError whose code is not in the table maps to (an
 * application's own code, a scripted model's made-up one): exit 2 as any
 * error the CLI explains, HTTP 500 because nothing says otherwise.
 */
export const UNLISTED_CODE: ErrorCodeInfo = {
  retryable: false,
  exit: EXIT_CODES.input,
  http: 500,
  description: "A TwelveError whose code is not in the table.",
};
