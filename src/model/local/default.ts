/**
 * The embedded default: Qwen2.5 1.5B Instruct, Q4_K_M (≈1.1 GB, Apache-2.0).
 * Small enough for a laptop CPU, good at JSON under a grammar.
 */
export const DEFAULT_LOCAL_MODEL = "hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf";
