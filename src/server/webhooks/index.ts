import type { ResolvedConfig } from "../../config/index.js";
import type { OutboxEndpoint } from "../../store/outbox.js";
import type { ServerContext } from "../context.js";
import {
  createWebhookDispatcher,
  outboxEndpoints,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
} from "./dispatcher.js";

export {
  backoffMs,
  createWebhookDispatcher,
  outboxEndpoints,
  signedHeaders,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
} from "./dispatcher.js";

/** The endpoints of the config's `webhooks` section that are not disabled, with their secrets resolved. */
export function webhookEndpoints(config: Pick<ResolvedConfig, "webhooks" | "secrets">): WebhookEndpoint[] {
  return config.webhooks.endpoints
    .filter((e) => !e.disabled)
    .map((e) => ({
      url: e.url,
      secrets: e.secrets ?? config.secrets.webhooks,
      ...(e.events && { events: e.events }),
      ...(e.agents && { agents: e.agents }),
    }));
}

/** The runtime's `outbox` option for this config (undefined when no endpoint is configured). */
export function webhookOutbox(
  config: Pick<ResolvedConfig, "webhooks" | "secrets">,
): { endpoints: OutboxEndpoint[] } | undefined {
  const endpoints = webhookEndpoints(config);
  return endpoints.length > 0 ? { endpoints: outboxEndpoints(endpoints) } : undefined;
}

/**
 * Starts sending the outbox to the config's endpoints, and flushes it
 * during the server's graceful shutdown. Undefined when no endpoint is
 * configured. `overrides` is for tests (short delays) and embedders.
 */
export function startWebhookDispatcher(
  ctx: ServerContext,
  overrides: Partial<Omit<WebhookDispatcherOptions, "store" | "endpoints">> = {},
): WebhookDispatcher | undefined {
  const endpoints = webhookEndpoints(ctx.config);
  if (endpoints.length === 0) return undefined;
  const dispatcher = createWebhookDispatcher({
    store: ctx.store,
    endpoints,
    retryForMs: ctx.config.webhooks.retryForMs,
    logger: ctx.logger,
    ...overrides,
  });
  ctx.onShutdown(() => dispatcher.stop());
  return dispatcher;
}
