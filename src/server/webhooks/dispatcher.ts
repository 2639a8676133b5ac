import { Webhook } from "standardwebhooks";
import { TwelveError } from "../../errors/index.js";
import type { OutboxEndpoint, OutboxRow, WebhookEventType } from "../../store/outbox.js";
import type { ThreadStore } from "../../store/types.js";
import type { Logger } from "../context.js";

/** One endpoint the dispatcher sends to. */
export interface WebhookEndpoint {
  /** Names the endpoint's rows in the outbox; default its URL (keep it stable across restarts). */
  name?: string;
  url: string;
  /**
   * Standard Webhooks secrets (`whsec_` + base64). Every one signs each
   * attempt (space-separated `v1,` signatures): add the new secret, let
   * receivers switch, then drop the old one.
   */
  secrets: readonly string[];
  events?: readonly WebhookEventType[];
  agents?: readonly string[];
}

export interface WebhookDispatcherOptions {
  store: ThreadStore;
  endpoints: readonly WebhookEndpoint[];
  /** How long a message keeps being retried after it was written (default 3 days); then it is marked failed. */
  retryForMs?: number;
  /** First retry delay; each next one doubles (default 5 s), up to `maxDelayMs` (default 1 h). Jittered ±20 %. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often the outbox is polled for due rows (default 1 s). */
  pollIntervalMs?: number;
  /** How long a claim lasts; another process may send the row again after it (default: the timeout + 5 s). */
  leaseMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Rows claimed per poll (default 20). */
  batchSize?: number;
  /** Delivered and failed rows are deleted this long after they settled (default 7 days; checked hourly). */
  keepSettledMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

export interface WebhookDispatcher {
  /** Sends every row due now (and what becomes due while it runs); resolves with the number of attempts made. */
  flush(): Promise<number>;
  /** Polls now instead of at the next interval. */
  wake(): void;
  /** Stops polling, waits for attempts in flight, then makes one last pass over due rows (`flush: false` skips it). */
  stop(options?: { flush?: boolean }): Promise<void>;
}

interface Resolved {
  name: string;
  url: string;
  signers: Webhook[];
}

const DEFAULTS = {
  retryForMs: 3 * 24 * 3600 * 1000,
  baseDelayMs: 5000,
  maxDelayMs: 3600 * 1000,
  pollIntervalMs: 1000,
  timeoutMs: 10_000,
  batchSize: 20,
  keepSettledMs: 7 * 24 * 3600 * 1000,
} as const;

/** The outbox endpoints (what rows to write) for these webhook endpoints. */
export function outboxEndpoints(endpoints: readonly WebhookEndpoint[]): OutboxEndpoint[] {
  return endpoints.map((e) => ({
    name: e.name ?? e.url,
    ...(e.events && { events: e.events }),
    ...(e.agents && { agents: e.agents }),
  }));
}

/** The delay before retry number `attempt` (1-based): base · 2^(attempt-1), capped, jittered ±20 %. */
export function backoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const raw = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

/** Standard Webhooks headers for one attempt: the message id, a fresh timestamp, a signature per secret. */
export function signedHeaders(
  messageId: string,
  body: string,
  signers: readonly Webhook[],
  now = new Date(),
): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "twelve-webhooks",
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": signers.map((s) => s.sign(messageId, now, body)).join(" "),
  };
}

/**
 * Sends the outbox's due rows to their endpoints. Each attempt is signed
 * when it is sent, with a fresh timestamp (receivers refuse timestamps older
 * than 5 minutes) and the message's stable `webhook-id`; nothing signed is
 * ever stored. 2xx → delivered; 410 → the endpoint is disabled (in the
 * store, for every process) and its rows wait; anything else (another
 * status, a network error, a timeout) → retried with exponential backoff
 * until `retryForMs` after the message was written, then failed. A claim
 * (lease) keeps two processes from sending the same attempt at once; a
 * process that dies mid-send leaves the row to be sent again when the claim
 * runs out, with the same id (at-least-once; receivers de-duplicate by id).
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const given = stripUndefined(options);
  const o = { ...DEFAULTS, leaseMs: (given.timeoutMs ?? DEFAULTS.timeoutMs) + 5000, ...given };
  const { store, logger } = options;
  const send = options.fetch ?? fetch;
  const endpoints = new Map<string, Resolved>();
  for (const e of options.endpoints) {
    const name = e.name ?? e.url;
    if (!Array.isArray(e.secrets) || e.secrets.length === 0) {
      throw new TwelveError(
        "config_invalid",
        `webhook endpoint ${name} has no secret: set secrets.webhooks (TWELVE_WEBHOOK_SECRETS) or the endpoint's secrets to whsec_… values`,
        { endpoint: name },
      );
    }
    endpoints.set(name, { name, url: e.url, signers: e.secrets.map((s, i) => signer(name, s, i)) });
  }
  const names = [...endpoints.keys()];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const attempt = async (row: OutboxRow): Promise<void> => {
    const endpoint = endpoints.get(row.endpoint) as Resolved;
    const body = JSON.stringify(row.payload);
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), o.timeoutMs);
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await send(endpoint.url, {
        method: "POST",
        headers: signedHeaders(row.messageId, body, endpoint.signers),
        body,
        signal: controller.signal,
        redirect: "manual",
      });
      status = response.status;
      // Drain the body so the connection can be reused; what it says does not matter.
      await response.arrayBuffer().catch(() => {});
    } catch (e) {
      error = controller.signal.aborted ? `timed out after ${o.timeoutMs} ms` : (e as Error).message || String(e);
    } finally {
      clearTimeout(timeout);
    }
    const claim = { id: row.id, ...(row.claimToken !== undefined && { claimToken: row.claimToken }) };
    if (status !== undefined && status >= 200 && status < 300) {
      await store.settleOutbox(claim, { delivered: true, status });
      return;
    }
    if (status === 410) {
      await store.setOutboxEndpoint(row.endpoint, { disabled: true, reason: `410 Gone from ${endpoint.url}` });
      logger?.warn("webhook endpoint answered 410 Gone: disabled", { endpoint: row.endpoint });
      await store.settleOutbox(claim, { retryInMs: 0, error: "410 Gone: endpoint disabled", status });
      return;
    }
    const why = error ?? `HTTP ${status}`;
    const delay = backoffMs(row.attempts + 1, o.baseDelayMs, o.maxDelayMs);
    const age = Date.now() - Date.parse(row.createdAt);
    if (age + delay > o.retryForMs) {
      await store.settleOutbox(claim, { failed: true, error: why, ...(status !== undefined && { status }) });
      logger?.warn("webhook delivery failed for good", { endpoint: row.endpoint, messageId: row.messageId, why });
      return;
    }
    await store.settleOutbox(claim, { retryInMs: delay, error: why, ...(status !== undefined && { status }) });
  };

  const pass = async (): Promise<number> => {
    let made = 0;
    // A row due again within this pass (a zero delay) waits for the next pass: one pass always ends.
    const seen = new Set<number>();
    for (;;) {
      const rows = await store.claimOutbox({ endpoints: names, leaseMs: o.leaseMs, limit: o.batchSize });
      if (rows.length === 0) return made;
      const again = rows.some((r) => seen.has(r.id));
      for (const r of rows) seen.add(r.id);
      await Promise.all(
        rows.map((row) =>
          attempt(row).catch((error: unknown) =>
            logger?.error("webhook attempt could not be settled", { id: row.id, error: String(error) }),
          ),
        ),
      );
      made += rows.length;
      if (again) return made;
    }
  };

  const run = (): Promise<number> => {
    if (running) return running.then(() => run());
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  let prunedAt = 0;
  const prune = async () => {
    if (Date.now() - prunedAt < 3600 * 1000) return;
    prunedAt = Date.now();
    const deleted = await store.pruneOutbox(new Date(Date.now() - o.keepSettledMs));
    if (deleted > 0) logger?.info("pruned settled webhook messages", { deleted });
  };

  const schedule = () => {
    if (stopped || names.length === 0) return;
    timer = setTimeout(() => {
      prune()
        .then(run)
        .catch((error: unknown) => logger?.error("webhook dispatch failed", { error: String(error) }))
        .finally(schedule);
    }, o.pollIntervalMs);
    timer.unref?.();
  };
  schedule();

  return {
    flush: () => (names.length === 0 ? Promise.resolve(0) : run()),
    wake() {
      if (stopped || running) return;
      if (timer) clearTimeout(timer);
      run()
        .catch((error: unknown) => logger?.error("webhook dispatch failed", { error: String(error) }))
        .finally(schedule);
    },
    async stop(stopOptions = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
      if (stopOptions.flush !== false && names.length > 0) await pass().catch(() => 0);
    },
  };
}

function signer(endpoint: string, secret: string, index: number): Webhook {
  try {
    if (typeof secret !== "string" || !/^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new Error("not base64");
    return new Webhook(secret);
  } catch {
    throw new TwelveError(
      "config_invalid",
      `webhook secret #${index + 1} of endpoint ${endpoint} is not a Standard Webhooks secret: whsec_ followed by base64 (e.g. whsec_ + 24 random bytes in base64)`,
      { endpoint, index },
    );
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
