/**
 * A minimal GGUF v3 writer: header, typed key/value metadata, tensor infos
 * and aligned F32 tensor data. Enough to produce small test models that
 * llama.cpp (through node-llama-cpp) loads like any downloaded model.
 *
 * Layout (little endian): "GGUF" u32 version=3, u64 tensor count, u64 kv
 * count, the kvs, the tensor infos (name, n_dims, dims in ggml order, type,
 * offset relative to the data section), padding to `general.alignment`,
 * then the tensor data, each tensor starting on an aligned offset.
 */

export type GgufValue =
  | { type: "uint32"; value: number }
  | { type: "int32"; value: number }
  | { type: "float32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "string"; value: string[] }
  | { type: "array"; itemType: "int32" | "float32" | "uint32"; value: number[] };

export interface GgufTensor {
  name: string;
  /** Dimensions in ggml order: `dims[0]` is the fastest-varying (row length). */
  dims: number[];
  data: Float32Array;
}

const VALUE_TYPE = { uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9 } as const;
const GGML_TYPE_F32 = 0;
const ALIGNMENT = 32;

/** Appends little-endian values to a growing list of chunks. */
class ByteSink {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  u32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    this.push(b);
  }
  i32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, value, true);
    this.push(b);
  }
  u64(value: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
    this.push(b);
  }
  f32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }
  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(bytes.length);
    this.push(bytes);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(new Uint8Array(pad));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  switch (value.type) {
    case "uint32":
      sink.u32(value.value);
      return;
    case "int32":
      sink.i32(value.value);
      return;
    case "float32":
      sink.f32(value.value);
      return;
    case "bool":
      sink.push(new Uint8Array([value.value ? 1 : 0]));
      return;
    case "string":
      sink.string(value.value);
      return;
    case "array": {
      sink.u32(VALUE_TYPE[value.itemType]);
      sink.u64(value.value.length);
      for (const item of value.value) {
        if (value.itemType === "string") sink.string(item as string);
        else writeValue(sink, { type: value.itemType, value: item as number });
      }
    }
  }
}

/** Serializes metadata and F32 tensors into GGUF v3 bytes. */
export function writeGguf(metadata: Record<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array {
  const sink = new ByteSink();
  sink.push(new TextEncoder().encode("GGUF"));
  sink.u32(3);
  sink.u64(tensors.length);
  const entries = Object.entries<GgufValue>({ "general.alignment": { type: "uint32", value: ALIGNMENT }, ...metadata });
  sink.u64(entries.length);
  for (const [key, value] of entries) {
    sink.string(key);
    sink.u32(VALUE_TYPE[value.type]);
    writeValue(sink, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) {
      throw new RangeError(
        `tensor ${tensor.name}: dims ${tensor.dims.join("x")} need ${count} values, got ${tensor.data.length}`,
      );
    }
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(GGML_TYPE_F32);
    sink.u64(offset);
    offset += Math.ceil((count * 4) / ALIGNMENT) * ALIGNMENT;
  }
  sink.padTo(ALIGNMENT);
  for (const tensor of tensors) {
    sink.push(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    sink.padTo(ALIGNMENT);
  }
  return sink.concat();
}
