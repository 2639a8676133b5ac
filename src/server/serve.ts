import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Agent } from "../agent/agent.js";
import type { ResolvedConfig } from "../config/index.js";
import type { Model } from "../model/types.js";
import { createWorker } from "../runtime/worker.js";
import type { ThreadStore } from "../store/types.js";
import { createApp } from "./app.js";
import { consoleLogger, type Logger, type ServerContext } from "./context.js";
import { startWebhookDispatcher, webhookOutbox } from "./webhooks/index.js";

export interface StartServerOptions {
  config: ResolvedConfig;
  agents: readonly Agent[];
  /** The model for each agent. */
  model: Model | ((agent: Agent) => Model | Promise<Model>);
  store: ThreadStore;
  /** Close the store on shutdown (the CLI opened it). */
  closeStore?: boolean;
  logger?: Logger;
  version?: string;
  /** Overrides config.server.port / host. */
  port?: number;
  host?: string;
  /** Runtime lease settings (tests shorten them). */
  leaseTtlMs?: number;
}

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  ctx: ServerContext;
  /** Graceful shutdown: refuse new work, let running threads finish (or release them), run hooks, close. */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Starts the HTTP server and its in-process worker. At start-up (and every
 * `workers.sweepIntervalMs`) the worker continues `running` threads nobody
 * holds, so threads a dead process left behind finish here.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, store } = options;
  const logger = options.logger ?? consoleLogger();
  const stop = new AbortController();
  // Every ?wait in flight and every open stream listens on this one signal (and lets go when done).
  setMaxListeners(0, stop.signal);
  const hooks: (() => void | Promise<void>)[] = [];
  let draining = false;
  const outbox = webhookOutbox(config);
  const worker = createWorker({
    store,
    ...(outbox && { outbox }),
    agents: options.agents,
    model: options.model,
    ...(options.leaseTtlMs !== undefined && { leaseTtlMs: options.leaseTtlMs }),
    onError: (error, threadId) =>
      logger.error("a thread stopped with an error", {
        threadId,
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  const ctx: ServerContext = {
    runtime: worker.runtime,
    worker,
    store,
    config,
    logger,
    signal: stop.signal,
    draining: () => draining,
    onShutdown: (hook) => {
      hooks.push(hook);
    },
  };
  // Sends the outbox the runtime writes (above); its shutdown hook flushes what is due.
  startWebhookDispatcher(ctx);
  const app = createApp(ctx, { agents: options.agents.map((a) => a.name), version: options.version ?? "0.0.0" });
  const server = createAdaptorServer({ fetch: app.fetch });
  // Idle keep-alive sockets outlive a client's or proxy's own idle timeout (60 s on common load balancers), so
  // a client never sends a request on a socket the server is closing (ECONNRESET on a POST, which is not retried).
  (server as { keepAliveTimeout: number }).keepAliveTimeout = 65_000;
  (server as { headersTimeout: number }).headersTimeout = 66_000;
  const host = options.host ?? config.server.host;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? config.server.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (config.secrets.apiKeys.length === 0) {
    logger.warn(
      "NO API KEY IS CONFIGURED: /v1 answers only on loopback, to anyone on this machine. Set TWELVE_API_KEYS (name:key) or secrets.apiKeys before exposing this server.",
    );
  }
  logger.info("twelve serve listening", { url, agents: options.agents.map((a) => a.name), store: store.kind });

  const sweep = () =>
    worker.sweep().then(
      (r) => r.started.length && logger.info("picked up running threads", { threads: r.started }),
      (error: unknown) => logger.error("sweep failed", { error: String(error) }),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), config.workers.sweepIntervalMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  const shutdown = (reason = "shutdown") => {
    closing ??= (async () => {
      draining = true;
      clearInterval(timer);
      logger.info("draining", { reason, running: worker.running });
      stop.abort();
      const drained = await worker.drain(config.server.shutdownGraceMs);
      logger.info("threads drained", drained);
      for (const hook of hooks) {
        try {
          await hook();
        } catch (error) {
          logger.error("a shutdown hook failed", { error: String(error) });
        }
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open; idle ones go now, busy ones after their response.
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 2000).unref();
      });
      if (options.closeStore) await store.close().catch(() => {});
      logger.info("stopped");
    })();
    return closing;
  };
  return { url, port, ctx, shutdown };
}
