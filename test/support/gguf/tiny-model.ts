import { type GgufTensor, type GgufValue, writeGguf } from "./gguf-writer.js";

/**
 * A tiny llama-architecture GGUF with random weights and a byte-level BPE
 * vocabulary (256 byte tokens + ChatML control tokens). It knows nothing,
 * but llama.cpp loads, tokenizes, templates and samples it exactly like a
 * real model, so tests and benchmarks can exercise the embedded path
 * without downloading weights.
 *
 * One deliberate tilt: every token embedding carries a constant component
 * in dimension 0, and the output projection reads that dimension with a
 * per-token bias favouring JSON punctuation (`"`, `,`, `}`, `]`). Without it a
 * random model inside a JSON grammar writes strings of random length and
 * hits the token limit; with it answers stay short. The grammar, not the
 * weights, still decides what is valid.
 */
export interface TinyModelOptions {
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  feedForward?: number;
  contextLength?: number;
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_CONTROL = 3;
const FAVOURED = new Set(['"', ",", "}", "]"]);

/** GPT-2's reversible byte → printable character map, used by byte-level BPE vocabularies. */
export function byteLevelAlphabet(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array(256);
  const direct = new Set(printable);
  let next = 256;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(direct.has(b) ? b : next++);
  return map;
}

/** Deterministic PRNG (mulberry32) with Box–Muller normals, so the same seed gives the same file. */
function normals(seed: number): (std: number) => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (std) => {
    const u = Math.max(uniform(), 1e-12);
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export function buildTinyModel(options: TinyModelOptions = {}): Uint8Array {
  const nEmbd = options.embedding ?? 32;
  const nLayer = options.layers ?? 2;
  const nHead = options.heads ?? 4;
  const nFf = options.feedForward ?? 64;
  const nCtx = options.contextLength ?? 2048;
  const normal = normals(options.seed ?? 12);

  const alphabet = byteLevelAlphabet();
  const tokens = [...alphabet, ...SPECIAL_TOKENS];
  const tokenTypes = tokens.map((_, i) => (i < 256 ? TOKEN_TYPE_NORMAL : TOKEN_TYPE_CONTROL));
  const nVocab = tokens.length;
  const eos = tokens.indexOf("<|im_end|>");
  const bos = tokens.indexOf("<|endoftext|>");

  const random = (count: number, std: number) => Float32Array.from({ length: count }, () => normal(std));
  const ones = (count: number) => new Float32Array(count).fill(1);

  const embeddings = random(nVocab * nEmbd, 1);
  for (let v = 0; v < nVocab; v++) embeddings[v * nEmbd] = 3;
  const output = random(nVocab * nEmbd, 0.3);
  for (let v = 0; v < nVocab; v++) {
    const char = v < 256 ? String.fromCharCode(v) : "";
    output[v * nEmbd] = FAVOURED.has(char) ? 3 : v === eos ? 1 : 0;
  }

  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [nEmbd, nVocab], data: embeddings },
    { name: "output_norm.weight", dims: [nEmbd], data: ones(nEmbd) },
    { name: "output.weight", dims: [nEmbd, nVocab], data: output },
  ];
  for (let layer = 0; layer < nLayer; layer++) {
    const p = `blk.${layer}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `${p}.attn_q.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd, 0.1) },
      { name: `${p}.attn_k.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd, 0.1) },
      { name: `${p}.attn_v.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd, 0.1) },
      { name: `${p}.attn_output.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd, 0.1) },
      { name: `${p}.ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `${p}.ffn_gate.weight`, dims: [nEmbd, nFf], data: random(nEmbd * nFf, 0.1) },
      { name: `${p}.ffn_up.weight`, dims: [nEmbd, nFf], data: random(nEmbd * nFf, 0.1) },
      { name: `${p}.ffn_down.weight`, dims: [nFf, nEmbd], data: random(nFf * nEmbd, 0.1) },
    );
  }

  const u32 = (value: number): GgufValue => ({ type: "uint32", value });
  const metadata: Record<string, GgufValue> = {
    "general.architecture": { type: "string", value: "llama" },
    "general.name": { type: "string", value: "twelve-tiny-random" },
    "general.file_type": u32(0),
    "llama.context_length": u32(nCtx),
    "llama.embedding_length": u32(nEmbd),
    "llama.block_count": u32(nLayer),
    "llama.feed_forward_length": u32(nFf),
    "llama.attention.head_count": u32(nHead),
    "llama.attention.head_count_kv": u32(nHead),
    "llama.rope.dimension_count": u32(nEmbd / nHead),
    "llama.attention.layer_norm_rms_epsilon": { type: "float32", value: 1e-5 },
    "llama.vocab_size": u32(nVocab),
    "tokenizer.ggml.model": { type: "string", value: "gpt2" },
    "tokenizer.ggml.pre": { type: "string", value: "default" },
    "tokenizer.ggml.tokens": { type: "array", itemType: "string", value: tokens },
    "tokenizer.ggml.token_type": { type: "array", itemType: "int32", value: tokenTypes },
    "tokenizer.ggml.merges": { type: "array", itemType: "string", value: [] },
    "tokenizer.ggml.bos_token_id": u32(bos),
    "tokenizer.ggml.eos_token_id": u32(eos),
    "tokenizer.ggml.padding_token_id": u32(bos),
    "tokenizer.ggml.add_bos_token": { type: "bool", value: false },
    "tokenizer.chat_template": { type: "string", value: CHATML_TEMPLATE },
  };
  return writeGguf(metadata, tensors);
}
