export { chatMessages } from "./chat-messages.js";
export { json } from "./json.js";
export { DEFAULT_SECRET_KEYS, DEFAULT_SECRET_PATTERNS, type RedactOptions, redactValue } from "./redact.js";
export type { ContextRenderer, RenderOptions } from "./types.js";
export { visibleEvents } from "./visible.js";
export { xmlYaml } from "./xml-yaml.js";
