import type { Agent } from "../../agent/agent.js";
import { loadConfig, type ResolvedConfig } from "../../config/index.js";
import { TwelveError } from "../../errors/index.js";
import { resolveModel } from "../../model/resolve.js";
import type { Model } from "../../model/types.js";
import type { ThreadStore } from "../../store/types.js";
import { loadAgentModule } from "../load-agent.js";
import { openCliStore } from "../store.js";
import { packageVersion } from "../version.js";
import { type CliIO, leaseTtlFromEnv } from "./run.js";

export interface ServeOptions {
  model?: string;
  port?: string;
  host?: string;
  store?: string;
  config?: string;
}

const invalidFlag = (message: string) => new TwelveError("invalid_flag", message);

/** The HTTP server's packages (hono, @hono/node-server) are optional peers: a missing one is a one-line install hint. */
async function loadServer() {
  try {
    const [{ startServer }, { consoleLogger }] = await Promise.all([
      import("../../server/serve.js"),
      import("../../server/context.js"),
    ]);
    return { startServer, consoleLogger };
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const missing = ["@hono/node-server", "hono"].find((pkg) => message?.includes(`'${pkg}'`));
    if (code !== "ERR_MODULE_NOT_FOUND" || !missing) throw error;
    throw new TwelveError(
      "missing_dependency",
      `twelve serve needs the ${missing} package: run "npm install hono @hono/node-server"`,
    );
  }
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalidFlag(`--port ${text}: expected 0-65535`);
  return port;
}

/**
 * `twelve serve [agent modules…]`: the HTTP API and an in-process worker.
 * Works without a config file; twelve.config.ts (or --config) adds agents,
 * keys, webhooks and the rest. Runs until SIGTERM / Ctrl-C, then drains:
 * /readyz answers 503, running threads finish or give their leases back,
 * and the process exits 0.
 */
export async function serveCommand(paths: string[], options: ServeOptions, io: CliIO): Promise<number> {
  const port = portOf(options.port);
  const config = await loadConfig({
    ...(options.config !== undefined && { path: options.config }),
    cwd: io.cwd,
    env: io.env,
  });
  const entries: { agent: Agent; model?: Model | string; fromModule?: Model | string }[] = [];
  for (const path of paths) {
    const mod = await loadAgentModule(path, io.cwd);
    entries.push({ agent: mod.agent, ...(mod.model !== undefined && { fromModule: mod.model }) });
  }
  for (const entry of config.agents) {
    if (typeof entry.agent === "string") {
      const mod = await loadAgentModule(entry.agent, config.baseDir);
      entries.push({
        agent: mod.agent,
        ...(entry.model !== undefined && { model: entry.model }),
        ...(mod.model !== undefined && { fromModule: mod.model }),
      });
    } else entries.push({ agent: entry.agent, ...(entry.model !== undefined && { model: entry.model }) });
  }
  if (entries.length === 0) {
    throw invalidFlag(
      "no agent to serve: give agent modules (twelve serve agent.ts) or list agents in twelve.config.ts",
    );
  }
  const seen = new Set<string>();
  for (const { agent } of entries) {
    if (seen.has(agent.name)) throw invalidFlag(`two agents are named "${agent.name}"; agent names must be unique`);
    seen.add(agent.name);
  }

  // Models resolve before the store opens or the port is taken: a bad spec fails fast and leaves nothing behind.
  const cache = new Map<string, Promise<Model>>();
  const resolveSpec = (spec: Model | string): Promise<Model> => {
    if (typeof spec !== "string") return Promise.resolve(spec);
    let model = cache.get(spec);
    if (!model) {
      model = resolveModel(spec, { env: io.env });
      cache.set(spec, model);
    }
    return model;
  };
  const models = new Map<string, Model>();
  for (const e of entries) {
    const spec = options.model ?? e.model ?? config.model ?? e.fromModule;
    if (spec === undefined) {
      throw invalidFlag(`agent "${e.agent.name}" has no model: give --model, $TWELVE_MODEL, or a model in the config`);
    }
    const model = await resolveSpec(spec);
    const loadable = model as { load?: () => Promise<unknown> };
    if (typeof loadable.load === "function") await loadable.load();
    models.set(e.agent.name, model);
  }

  // A killed server's leases outlive it this long (the runtime's default, 30 s, unless set).
  const leaseTtlMs = leaseTtlFromEnv(io.env);
  const store = await openStoreFor(options.store, config, io);
  const { startServer, consoleLogger } = await loadServer();
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      config,
      agents: entries.map((e) => e.agent),
      model: (agent) => models.get(agent.name) as Model,
      store,
      closeStore: typeof config.store !== "object" || options.store !== undefined,
      logger: consoleLogger(io.stderr),
      version: packageVersion(),
      ...(port !== undefined && { port }),
      ...(leaseTtlMs !== undefined && { leaseTtlMs }),
      ...(options.host !== undefined && { host: options.host }),
    });
  } catch (error) {
    await store.close().catch(() => {});
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw invalidFlag(
        `cannot listen on ${options.host ?? config.server.host}:${port ?? config.server.port} (${code})`,
      );
    }
    throw error;
  }
  io.stdout(`twelve serve: listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    if (!io.signal || io.signal.aborted) return resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.shutdown(String((io.signal?.reason as Error | undefined)?.message ?? "signal"));
  return 0;
}

async function openStoreFor(flag: string | undefined, config: ResolvedConfig, io: CliIO): Promise<ThreadStore> {
  if (flag !== undefined) return openCliStore(flag, io.cwd);
  if (config.store !== undefined && typeof config.store !== "string") return config.store;
  return openCliStore(config.store, config.baseDir);
}
