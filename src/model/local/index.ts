import { access } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
// Types only: node-llama-cpp itself is imported lazily, on the first call.
import type * as NodeLlamaCpp from "node-llama-cpp";
import { TwelveError } from "../../errors/index.js";
import { ModelError, toModelError } from "../errors.js";
import type { GenerateRequest, GenerateResult, Message, Model } from "../types.js";
import { elapsed } from "../wire.js";
import { toGrammarSchema } from "./grammar-schema.js";

export { DEFAULT_LOCAL_MODEL } from "./default.js";

export interface LocalModelOptions {
  /** A GGUF file path, or an `hf:<user>/<repo>/<file>.gguf` URI (or an https URL) downloaded on first use. */
  model: string;
  /** Where downloads go. Default `$TWELVE_MODEL_CACHE` or `~/.cache/twelve/models`. */
  cacheDir?: string;
  /** CPU threads. Default: node-llama-cpp's count of math cores (more threads than cores is much slower). */
  threads?: number;
  /** Context window in tokens. Default: the model's training context, capped at 8192. */
  contextSize?: number;
  /** `false` for CPU only; default `"auto"` (Metal, CUDA or Vulkan when available). */
  gpu?: false | "auto";
  /** Print a download progress bar to the terminal. Default: when stderr is a TTY. */
  progressBar?: boolean;
  onDownloadProgress?: (status: { totalSize: number; downloadedSize: number }) => void;
  /** Abort a download that makes no progress for this long. Default 30 000 ms. */
  downloadStallMs?: number;
  /** Another Hugging Face endpoint (a mirror), e.g. `https://hf-mirror.example`. */
  huggingFaceEndpoint?: string;
  /** Constrain decoding with a grammar from the step schema (default true when the request has an output schema). */
  grammar?: boolean;
  /** Output token cap when the request sets none. Default 1024. */
  maxTokens?: number;
  id?: string;
}

export function defaultCacheDir(): string {
  return process.env.TWELVE_MODEL_CACHE || join(homedir(), ".cache", "twelve", "models");
}

interface Loaded {
  lib: typeof NodeLlamaCpp;
  llama: NodeLlamaCpp.Llama;
  model: NodeLlamaCpp.LlamaModel;
  context: NodeLlamaCpp.LlamaContext;
  sequence: NodeLlamaCpp.LlamaContextSequence;
  /** Resolved once from the model's chat template: resolving it per call costs about a second. */
  chatWrapper: NodeLlamaCpp.ChatWrapper;
  grammars: Map<string, Promise<NodeLlamaCpp.LlamaGrammar>>;
}

export interface LocalModel extends Model {
  /** Loads (and downloads) now instead of on the first call; returns the resolved file path. */
  load(signal?: AbortSignal): Promise<string>;
  /** Frees the model, context and native memory. */
  dispose(): Promise<void>;
}

/** A GGUF model run in-process through node-llama-cpp, with the model's own chat template. */
export function localModel(options: LocalModelOptions): LocalModel {
  const id = options.id ?? `local:${options.model}`;
  let loading: Promise<Loaded> | undefined;
  let modelPath = "";
  // One context sequence: calls take turns (and reuse the evaluated prompt prefix).
  let queue: Promise<unknown> = Promise.resolve();

  const load = (signal?: AbortSignal) => {
    loading ??= (async () => {
      const lib = await importNodeLlamaCpp();
      modelPath = await resolveFile(lib, options, signal);
      const llama = await lib.getLlama({ gpu: options.gpu ?? "auto", progressLogs: false });
      let model: NodeLlamaCpp.LlamaModel;
      try {
        model = await llama.loadModel({ modelPath });
      } catch (error) {
        throw new TwelveError(
          "model_config",
          `${id}: cannot load "${modelPath}" as a GGUF model: ${(error as Error).message}`,
          {
            path: modelPath,
          },
        );
      }
      const context = await model.createContext({
        contextSize: options.contextSize ?? Math.min(model.trainContextSize, 8192),
        threads: options.threads ?? llama.cpuMathCores,
      });
      const chatWrapper = lib.resolveChatWrapper(model);
      return { lib, llama, model, context, sequence: context.getSequence(), chatWrapper, grammars: new Map() };
    })();
    loading.catch(() => {
      loading = undefined;
    });
    return loading;
  };

  const generate = async (request: GenerateRequest): Promise<GenerateResult> => {
    const started = performance.now();
    const loaded = await load(request.signal);
    const grammar =
      request.output && options.grammar !== false ? await grammarFor(loaded, request.output.jsonSchema) : undefined;
    const chat = new loaded.lib.LlamaChat({
      contextSequence: loaded.sequence,
      chatWrapper: loaded.chatWrapper,
      autoDisposeSequence: false,
    });
    const meter = loaded.sequence.tokenMeter;
    const before = { input: meter.usedInputTokens, output: meter.usedOutputTokens };
    try {
      const response = await chat.generateResponse(
        [...toChatHistory(request.messages), { type: "model", response: [] }],
        {
          ...(grammar && { grammar }),
          maxTokens: request.maxTokens ?? options.maxTokens ?? 1024,
          ...(request.temperature !== undefined && { temperature: request.temperature }),
          ...(request.signal && { signal: request.signal }),
          ...(request.onText && { onTextChunk: request.onText }),
        },
      );
      return {
        text: response.response,
        usage: {
          inputTokens: meter.usedInputTokens - before.input,
          outputTokens: meter.usedOutputTokens - before.output,
        },
        raw: { stopReason: response.metadata.stopReason, chatWrapper: chat.chatWrapper.wrapperName, modelPath },
        latencyMs: elapsed(started),
      };
    } catch (error) {
      throw toModelError(error, id, request.signal);
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  };

  return {
    id,
    generate(request) {
      const turn = queue.then(() => generate(request));
      queue = turn.catch(() => undefined);
      return turn;
    },
    async load(signal) {
      await load(signal);
      return modelPath;
    },
    async dispose() {
      const current = loading;
      loading = undefined;
      if (!current) return;
      const loaded = await current.catch(() => undefined);
      await loaded?.context.dispose();
      await loaded?.model.dispose();
    },
  };
}

function grammarFor(loaded: Loaded, jsonSchema: Record<string, unknown>): Promise<NodeLlamaCpp.LlamaGrammar> {
  const key = JSON.stringify(jsonSchema);
  let grammar = loaded.grammars.get(key);
  if (!grammar) {
    // biome-ignore lint/suspicious/noExplicitAny: the converted schema is checked by node-llama-cpp at runtime.
    grammar = loaded.llama.createGrammarForJsonSchema(toGrammarSchema(jsonSchema) as any);
    loaded.grammars.set(key, grammar);
  }
  return grammar;
}

/** twelve messages → node-llama-cpp chat history; tool traffic becomes plain turns the template can render. */
export function toChatHistory(messages: readonly Message[]): NodeLlamaCpp.ChatHistoryItem[] {
  return messages.map((message): NodeLlamaCpp.ChatHistoryItem => {
    switch (message.role) {
      case "system":
        return { type: "system", text: message.content };
      case "user":
        return { type: "user", text: message.content };
      case "assistant": {
        const calls = (message.toolCalls ?? []).map((c) =>
          JSON.stringify({ intent: c.name, ...(c.arguments as Record<string, unknown>) }),
        );
        return { type: "model", response: [[message.content, ...calls].filter(Boolean).join("\n")] };
      }
      case "tool":
        return {
          type: "user",
          text: `Result of ${message.name ?? message.toolCallId ?? "tool call"}:\n${message.content}`,
        };
      default:
        throw new TwelveError("invalid_input", `unknown message role "${(message as Message).role}"`);
    }
  });
}

async function importNodeLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  try {
    return await import("node-llama-cpp");
  } catch (error) {
    throw new TwelveError(
      "missing_dependency",
      `the embedded local model needs node-llama-cpp: run "npm install node-llama-cpp@3", or set TWELVE_MODEL / OPENAI_API_KEY / ANTHROPIC_API_KEY to use a hosted model (${(error as Error).message})`,
    );
  }
}

async function resolveFile(
  lib: typeof NodeLlamaCpp,
  options: LocalModelOptions,
  signal?: AbortSignal,
): Promise<string> {
  const spec = options.model;
  if (/^(hf:|https?:\/\/)/.test(spec)) {
    // A firewalled network often swallows packets instead of refusing them: give up when the
    // download makes no progress for a while, rather than hang forever.
    const stallMs = options.downloadStallMs ?? 30_000;
    const stall = new AbortController();
    let timer = setTimeout(() => stall.abort(), stallMs);
    const onProgress = (status: { totalSize: number; downloadedSize: number }) => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), stallMs);
      options.onDownloadProgress?.(status);
    };
    try {
      const both = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
      const download = lib.resolveModelFile(spec, {
        directory: options.cacheDir ?? defaultCacheDir(),
        cli: options.progressBar ?? Boolean(process.stderr.isTTY),
        onProgress,
        ...(options.huggingFaceEndpoint && { endpoints: { huggingFace: options.huggingFaceEndpoint } }),
        signal: both,
      });
      // node-llama-cpp does not notice the signal while it resolves the file's metadata, so race it.
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(new Error("aborted"));
        if (both.aborted) fail();
        else both.addEventListener("abort", fail, { once: true });
      });
      download.catch(() => undefined);
      return await Promise.race([download, aborted]);
    } catch (error) {
      if (signal?.aborted) throw toModelError(error, `local:${spec}`, signal);
      if (stall.signal.aborted) {
        throw new ModelError(
          "network",
          `local:${spec}: the download made no progress for ${Math.round(stallMs / 1000)} s (is the network reachable?); download the .gguf yourself and use local:./path/to/file.gguf, or use a hosted model (TWELVE_MODEL, OPENAI_API_KEY, ANTHROPIC_API_KEY)`,
          { model: `local:${spec}` },
          { cause: error },
        );
      }
      throw new ModelError(
        "network",
        `local:${spec}: cannot download the model (${(error as Error).message}); download the .gguf yourself and use local:./path/to/file.gguf, or set TWELVE_MODEL_CACHE to a directory that already holds it`,
        { model: `local:${spec}` },
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }
  const path = resolve(spec);
  try {
    await access(path);
  } catch {
    throw new TwelveError(
      "model_config",
      `local model file "${path}" does not exist; pass a .gguf path or an hf:<user>/<repo>/<file>.gguf URI`,
      {
        path,
      },
    );
  }
  return path;
}
