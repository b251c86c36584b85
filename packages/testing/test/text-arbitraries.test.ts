import { test } from "@fast-check/vitest";
import { CreatePaymentInputSchema } from "@paylink/core";
import fc from "fast-check";
import { describe, expect } from "vitest";
import {
  createInputArb,
  FREE_TEXT_FIELDS,
  malformedTextArb,
  malformedTextInputArb,
  wellFormedTextArb,
} from "../src/arbitraries.js";

// An oracle independent of core: UTF-8 cannot encode a lone surrogate, so encoding replaces it with
// U+FFFD and the round trip changes the text; well-formed text survives it unchanged.
const survivesUtf8 = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text)) === text;
const ASTRAL = /[\u{10000}-\u{10FFFF}]/u;

describe("text arbitraries", () => {
  test.prop([malformedTextArb()])("malformed text never survives UTF-8 and fits every field", (text) => {
    expect(survivesUtf8(text)).toBe(false);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(40);
  });

  test("malformed text covers lone high and low surrogates and reversed pairs", () => {
    const samples = fc.sample(malformedTextArb(), { numRuns: 500, seed: 42 });
    expect(samples.some((t) => /[\ud800-\udbff](?![\udc00-\udfff])/.test(t))).toBe(true);
    expect(samples.some((t) => /(?<![\ud800-\udbff])[\udc00-\udfff]/.test(t))).toBe(true);
    expect(samples.some((t) => /[\udc00-\udfff][\ud800-\udbff]/.test(t))).toBe(true);
  });

  test.prop([fc.integer({ min: 0, max: 10 }), fc.integer({ min: 10, max: 1000 })])(
    "well-formed text survives UTF-8 and stays within its bounds in UTF-16 code units",
    (minLength, maxLength) => {
      for (const text of fc.sample(wellFormedTextArb({ minLength, maxLength }), 20)) {
        expect(survivesUtf8(text)).toBe(true);
        expect(text.length).toBeGreaterThanOrEqual(minLength);
        expect(text.length).toBeLessThanOrEqual(Math.max(maxLength, minLength * 7));
      }
    },
  );

  test("valid create inputs contain astral characters, so every store is tried with them", () => {
    const inputs = fc.sample(createInputArb({ now: new Date("2030-01-01T00:00:00Z") }), {
      numRuns: 300,
      seed: 7,
    });
    const texts = inputs.flatMap((input) => [
      input.description ?? "",
      ...Object.entries(input.metadata ?? {})
        .flat()
        .map(String),
    ]);
    expect(texts.some((text) => ASTRAL.test(text))).toBe(true);
  });

  test.prop([malformedTextInputArb({ now: new Date("2030-01-01T00:00:00Z") })])(
    "malformed create inputs spoil exactly one field, and core's schema refuses that field",
    ({ input, field, path }) => {
      expect(FREE_TEXT_FIELDS).toContain(field);
      const parsed = CreatePaymentInputSchema.safeParse(input);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path.map(String).join("."))).toEqual([path]);
    },
  );

  test.prop([createInputArb({ kind: "link" })])("links never have a zero total", (input) => {
    expect(input.amountSubtotal + (input.taxAmount ?? 0)).toBeGreaterThan(0);
  });

  test("charges may still have a zero total", () => {
    const charges = fc.sample(createInputArb({ kind: "charge" }), { numRuns: 200, seed: 1 });
    expect(charges.some((input) => input.amountSubtotal + (input.taxAmount ?? 0) === 0)).toBe(true);
  });
});
