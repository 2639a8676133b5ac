import { encode } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AnyIntent, builtinIntents, defineIntent } from "../../src/intent/intent.js";
import { renderIntentSchemas, stepJsonSchema, toolSpecs } from "../../src/intent/schema-text.js";
import { schemas } from "./corpus/schemas.js";

interface TreeNode {
  label: string;
  children: TreeNode[];
}
const treeNode: z.ZodType<TreeNode> = z.lazy(() => z.object({ label: z.string(), children: z.array(treeNode) }));

/** Every construct the renderer knows, in one intent. */
const kitchenSink = defineIntent(
  "configure",
  z.object({
    name: z.string().min(2).max(40).describe("display name"),
    email: z.email(),
    when: z.iso.datetime().optional().describe("ISO time; now when omitted"),
    retries: z.number().int().min(0).max(5).default(3),
    ratio: z.number().gt(0).lt(1).optional(),
    mode: z.enum(["fast", "safe"]),
    version: z.literal(2),
    slug: z.string().regex(/^[a-z-]+$/),
    tags: z.array(z.string()).min(1).max(5),
    pair: z.tuple([z.string(), z.number()]),
    limits: z.record(z.string(), z.number()),
    weights: z.partialRecord(z.enum(["cpu", "memory"]), z.number()),
    note: z.string().nullable(),
    target: z.union([z.object({ kind: z.literal("host"), host: z.string() }), z.object({ kind: z.literal("all") })]),
    mixed: z.array(z.union([z.string(), z.number()])),
    "odd-key": z.boolean().optional(),
    owner: z.object({ id: z.string(), team: z.string().optional() }).describe("who owns it"),
    tree: treeNode.optional(),
    extra: z.any().optional(),
  }),
  { description: "Configure   a\nservice (every field kind)" },
);

const empty = defineIntent("list_everything", z.object({}), { description: "List all items" });

describe("renderIntentSchemas golden files", () => {
  for (const [name, intents] of Object.entries(schemas)) {
    it(`${name} intents`, async () => {
      await expect(renderIntentSchemas(intents)).toMatchFileSnapshot(`./golden/${name}.txt`);
    });
  }

  it("every field kind", async () => {
    await expect(renderIntentSchemas([kitchenSink, empty])).toMatchFileSnapshot("./golden/kitchen-sink.txt");
  });

  it("built-in intents", async () => {
    await expect(renderIntentSchemas(builtinIntents)).toMatchFileSnapshot("./golden/builtins.txt");
  });
});

describe("renderIntentSchemas content", () => {
  it("writes descriptions as comments, enums as literal unions, optional fields with ?", () => {
    const text = renderIntentSchemas(schemas.deploy as AnyIntent[]);
    expect(text).toContain("// Deploy a tag of the backend");
    expect(text).toContain('environment: "staging" | "production";');
    expect(text).toContain("tag: string; // git tag to deploy");
    expect(text).toContain("replicas?: integer; // ≥ 1, ≤ 20");
    expect(text).toContain("dry_run?: boolean; // default false");
  });

  it("uses fewer tokens than the JSON schema of the same step union", () => {
    for (const intents of Object.values(schemas)) {
      const rendered = encode(renderIntentSchemas(intents)).length;
      const json = encode(JSON.stringify(stepJsonSchema(intents))).length;
      expect(rendered).toBeLessThan(json * 0.7);
    }
  });
});

describe("JSON schema and tool specs", () => {
  it("stepJsonSchema has one member per intent with the intent as a required constant", () => {
    const schema = stepJsonSchema(schemas.calculator as AnyIntent[]) as { anyOf: Record<string, unknown>[] };
    expect(schema.anyOf).toHaveLength(6);
    expect(schema.anyOf[0]).toMatchObject({
      type: "object",
      properties: { intent: { type: "string", const: "add" }, a: { type: "number" }, b: { type: "number" } },
      required: ["intent", "a", "b"],
      description: "Add two numbers",
    });
  });

  it("toolSpecs gives each intent's arguments as JSON schema without $schema", () => {
    const [add] = toolSpecs(schemas.calculator as AnyIntent[]);
    expect(add).toEqual({
      name: "add",
      description: "Add two numbers",
      parameters: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      },
    });
  });
});
