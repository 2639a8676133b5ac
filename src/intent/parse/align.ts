import type { z } from "zod";
import type { Reading } from "./answer.js";

/** Schema-guided reading of a block that is not strict JSON (unquoted strings, code). */
export function guidedReading(_text: string, _schema: z.ZodType): Reading | undefined {
  return undefined;
}
