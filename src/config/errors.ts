import { TwelveError } from "../errors/index.js";

/** A config file that is missing, fails to load, or holds a setting the schema refuses. */
export class ConfigError extends TwelveError {
  constructor(
    code: "config_invalid" | "config_not_found",
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.name = "ConfigError";
  }
}
