/**
 * The deployment's configuration: `defineConfig()` in `twelve.config.ts`,
 * the environment over it, checked by one zod schema. The CLI and the
 * server read it; later layers (channels, schedules, workers, prices) add
 * their settings to its reserved sections.
 */
export { ENV_VARS, type EnvVar } from "./env.js";
export { ConfigError } from "./errors.js";
export { CONFIG_FILES, DEFAULTS, type LoadConfigOptions, loadConfig, type ResolvedConfig } from "./load.js";
export { importFile } from "./module.js";
export {
  type AgentEntry,
  type ApiKeyConfig,
  configSchema,
  defineConfig,
  type TwelveConfig,
  WEBHOOK_EVENTS,
  type WebhookEndpointConfig,
  type WebhookEvent,
} from "./schema.js";
