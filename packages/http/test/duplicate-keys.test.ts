/**
 * The duplicate-key check of JSON bodies against an oracle: random JSON texts whose objects may repeat a
 * key (written with or without escapes, with hostile strings around), where the generator knows whether
 * it repeated one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasDuplicateKey } from "../src/body.js";

/** A JSON tree as written: objects keep every entry, so a key may appear twice. */
type Tree =
  | { readonly kind: "object"; readonly entries: readonly (readonly [string, Tree])[] }
  | { readonly kind: "array"; readonly items: readonly Tree[] }
  | { readonly kind: "leaf"; readonly value: unknown };

// Few distinct keys, so repeats are frequent; some look like JSON syntax or need escaping.
const keyArb = fc.oneof(
  fc.constantFrom("a", "b", "ab", "", '"', "\\", "{", "}", ":", ",", "[", "é", "😀", "__proto__", "a\u0000"),
  fc.string({ unit: fc.constantFrom("a", "b", '"', "\\", ":", "{", "}"), maxLength: 3 }),
);
// Leaves with strings full of quotes, braces, colons and backslashes.
const leafArb = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  fc.string({ unit: fc.constantFrom('"', "\\", "{", "}", ":", ",", "[", "]", "a", "\u2028"), maxLength: 8 }),
);

const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb.map((value): Tree => ({ kind: "leaf", value })),
    fc
      .array(fc.tuple(keyArb, tie("tree")), { maxLength: 5 })
      .map((entries): Tree => ({ kind: "object", entries })),
    fc.array(tie("tree"), { maxLength: 4 }).map((items): Tree => ({ kind: "array", items })),
  ),
}));

/** A root object, possibly with a repeated key added at the top (the most common shape of the attack). */
const bodyArb = fc
  .tuple(fc.array(fc.tuple(keyArb, tree), { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined }))
  .map(([entries, repeat]): Tree => {
    if (repeat === undefined || entries.length === 0) return { kind: "object", entries };
    const [key] = entries[repeat % entries.length]!;
    return { kind: "object", entries: [...entries, [key, { kind: "leaf", value: 1 }]] };
  });

/** The oracle: does some object repeat a key? (keys compared as the strings they denote). */
function repeats(node: Tree): boolean {
  if (node.kind === "leaf") return false;
  if (node.kind === "array") return node.items.some(repeats);
  const keys = node.entries.map(([key]) => key);
  return new Set(keys).size !== keys.length || node.entries.some(([, child]) => repeats(child));
}

/** Writes a string as JSON, escaping each character as `\uXXXX` where `escape` says so. */
const writeString = (text: string, escaped: (index: number) => boolean) =>
  `"${[...text]
    .map((char, index) =>
      escaped(index)
        ? [...char]
            .flatMap((c) => {
              const codes: string[] = [];
              for (let i = 0; i < c.length; i++)
                codes.push(`\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`);
              return codes;
            })
            .join("")
        : JSON.stringify(char).slice(1, -1),
    )
    .join("")}"`;

/** Serializes a tree with random whitespace and random `\u` escapes in keys. */
function write(node: Tree, noise: () => number): string {
  const space = () => [" ", "", "\n", "\t ", ""][noise() % 5]!;
  if (node.kind === "leaf") return JSON.stringify(node.value) ?? "null";
  if (node.kind === "array")
    return `[${space()}${node.items.map((item) => write(item, noise)).join(`,${space()}`)}]`;
  const entries = node.entries.map(
    ([key, child]) =>
      `${writeString(key, () => noise() % 3 === 0)}${space()}:${space()}${write(child, noise)}`,
  );
  return `{${space()}${entries.join(`${space()},${space()}`)}${space()}}`;
}

const noiseOf = (seed: number) => {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32: a deterministic stream from fast-check's seed, so a failure replays.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % 1000;
  };
};

describe("hasDuplicateKey", () => {
  it("agrees with the oracle on random JSON with repeated keys, escapes and hostile strings", () => {
    fc.assert(
      fc.property(bodyArb, fc.integer(), (body, seed) => {
        const text = write(body, noiseOf(seed));
        const parsed: unknown = JSON.parse(text);
        expect(hasDuplicateKey(text, parsed), text).toBe(repeats(body));
      }),
      { numRuns: 2000 },
    );
  });

  it("never flags what JSON.stringify writes (its objects cannot repeat a key)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(hasDuplicateKey(text, JSON.parse(text))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("handles the cases a reviewer would try first", () => {
    const check = (text: string) => hasDuplicateKey(text, JSON.parse(text));
    expect(check('{"amountSubtotal":1,"amountSubtotal":2}')).toBe(true);
    expect(check('{"a":1,"\\u0061":2}')).toBe(true);
    expect(check('{"metadata":{"order":"A","order":"B"}}')).toBe(true);
    expect(check('{"list":[{"x":1},{"y":{"z":1,"z":1}}]}')).toBe(true);
    expect(check('{"__proto__":1,"__proto__":2}')).toBe(true);
    expect(check('{"a":"{\\"a\\":1,\\"a\\":2}","b":"::"}')).toBe(false);
    expect(check('{"a\\\\":1,"a":2}')).toBe(false);
    expect(check('{"a\\"":1,"a":2}')).toBe(false);
    expect(check('{"list":[{"x":1},{"x":2}]}')).toBe(false);
    // Deep nesting is legal JSON: no recursion, no stack overflow.
    const deep = `{"a":${"[".repeat(20_000)}${"]".repeat(20_000)},"b":{"c":1,"c":2}}`;
    expect(check(deep)).toBe(true);
  });

  it("reads a 64 KiB body in well under a millisecond on average", () => {
    const text = JSON.stringify({
      description: 'x:{}"'.repeat(4000),
      metadata: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, `v:${i}`.repeat(40)])),
      items: Array.from({ length: 600 }, (_, i) => ({ id: i, name: `n${i}` })),
    });
    expect(text.length).toBeGreaterThan(40_000);
    expect(text.length).toBeLessThanOrEqual(64 * 1024);
    const parsed: unknown = JSON.parse(text);
    const rounds = 200;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) hasDuplicateKey(text, parsed);
    expect((performance.now() - start) / rounds).toBeLessThan(1);
  });
});
