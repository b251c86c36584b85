import { test } from "@fast-check/vitest";
import { CreatePaymentInputSchema } from "@paylink/core";
import { createInputArb, malformedTextArb, malformedTextInputArb, wellFormedTextArb } from "@paylink/testing";
import { describe, expect } from "vitest";
import { linkInput, SCOPE, setup } from "./helpers.js";

const NOW = new Date("2026-01-01T00:00:00.000Z");

/** Creates `input` on a fresh memory store; returns the result and the store. */
async function create(input: unknown) {
  const { links, store } = setup();
  return { result: await links.create(SCOPE, input as never), store };
}

describe("create refuses text that is not well-formed Unicode", () => {
  const broken: Array<[string, string]> = [
    ["a lone high surrogate", "\ud800"],
    ["a lone low surrogate", "\udc00"],
    ["a reversed pair", "\ude00\ud83d"],
    ["a high surrogate at the end of text", "cappuccino \ud83d"],
    ["a low surrogate after a proper pair", "\ud83d\ude00\ude00"],
  ];
  const fields: Array<[string, (bad: string) => Record<string, unknown>, (bad: string) => string]> = [
    ["customerId", (bad) => ({ customerId: `cus_${bad}` }), () => "customerId"],
    ["provider", (bad) => ({ provider: bad }), () => "provider"],
    ["description", (bad) => ({ description: bad }), () => "description"],
    ["a metadata value", (bad) => ({ metadata: { order: bad } }), () => "metadata.order"],
    ["a metadata key", (bad) => ({ metadata: { [bad]: "x" } }), (bad) => `metadata.${bad}`],
  ];
  const cases = fields.flatMap(([field, patch, path]) =>
    broken.map(([name, bad]) => [`${name} in ${field}`, patch(bad), path(bad)] as const),
  );

  test.each(cases)("%s: invalid_request naming the field, nothing stored", async (_name, patch, path) => {
    const { result, store } = await create(linkInput(NOW, patch));
    const error = result._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_request");
    if (error.code === "invalid_request") expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(store.size()).toBe(0);
    expect(await store.readEvents(0, 100)).toEqual([]);
  });

  test("the issue says what is wrong, for a field, a metadata value and a metadata key", async () => {
    const issuesOf = async (patch: Record<string, unknown>) => {
      const error = (await create(linkInput(NOW, patch))).result._unsafeUnwrapErr();
      return error.code === "invalid_request" ? error.issues : [];
    };
    const message = "must be well-formed Unicode (no lone UTF-16 surrogate)";
    expect(await issuesOf({ description: "\ud800" })).toEqual([{ path: "description", message }]);
    expect(await issuesOf({ metadata: { order: "\udc00" } })).toEqual([{ path: "metadata.order", message }]);
    expect(await issuesOf({ metadata: { "\udc00\ud800": 1 } })).toEqual([
      { path: "metadata.\udc00\ud800", message: `key ${message}` },
    ]);
    expect(await issuesOf({ metadata: { "a\u0000": 1 } })).toEqual([
      { path: "metadata.a\u0000", message: "key must not contain U+0000" },
    ]);
  });

  test.prop([malformedTextInputArb({ now: NOW })])(
    "any malformed free text in any field, for links and charges: invalid_request naming it, nothing stored",
    async ({ input, path }) => {
      const { links, store } = setup();
      const error = (await links.create(SCOPE, input))._unsafeUnwrapErr();
      expect(error.code).toBe("invalid_request");
      if (error.code === "invalid_request") expect(error.issues.map((issue) => issue.path)).toContain(path);
      expect(store.size()).toBe(0);
      expect(await store.readEvents(0, 100)).toEqual([]);
    },
  );

  test.prop([malformedTextArb()])("the schema refuses malformed text wherever free text goes", (bad) => {
    for (const patch of [
      { customerId: bad },
      { provider: bad },
      { description: bad },
      { metadata: { k: bad } },
    ]) {
      expect(CreatePaymentInputSchema.safeParse(linkInput(NOW, patch)).success).toBe(false);
    }
  });
});

describe("create keeps well-formed text beyond ASCII exactly", () => {
  test("emoji, proper surrogate pairs, ZWJ sequences, flags and combining marks in every text field", async () => {
    const text = {
      customerId: "cus_😀",
      provider: "stripe 💳",
      description: "Flat white ☕ for 👩🏽‍💻 — 𝄞 𠀋 🇬🇧 é \ud83d\ude00",
      metadata: { "🎫": "\ud83d\udcb3 card", note: "שלום 中文" },
    };
    const { links } = setup();
    const payment = (await links.create(SCOPE, linkInput(NOW, text)))._unsafeUnwrap();
    expect(payment).toMatchObject(text);
    expect((await links.get(SCOPE, payment.id))._unsafeUnwrap()).toEqual(payment);
  });

  test.prop([
    createInputArb({ now: NOW }),
    wellFormedTextArb({ maxLength: 1000 }),
    wellFormedTextArb({ minLength: 1, maxLength: 40 }),
  ])(
    "well-formed text in description and metadata is accepted and stored unchanged",
    async (input, description, key) => {
      const { links } = setup();
      const metadata = { [key]: key };
      const payment = (await links.create(SCOPE, { ...input, description, metadata }))._unsafeUnwrap();
      expect(payment.description).toBe(description);
      expect(payment.metadata).toEqual(metadata);
    },
  );
});

describe("a payment link must collect a positive total", () => {
  test.each([
    ["kind omitted, zero tax", { amountSubtotal: 0, taxAmount: 0 }],
    ["kind link, tax omitted", { kind: "link", amountSubtotal: 0, taxAmount: undefined }],
  ])("a zero-total link (%s) is invalid_request on amountSubtotal, nothing stored", async (_name, patch) => {
    const { result, store } = await create(linkInput(NOW, patch));
    const error = result._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_request");
    expect(error.code === "invalid_request" && error.issues).toEqual([
      {
        path: "amountSubtotal",
        message: "a payment link must collect a positive total (amountSubtotal + taxAmount > 0)",
      },
    ]);
    expect(store.size()).toBe(0);
  });

  test.each([
    [1, 0],
    [0, 1],
    [1, 1],
  ])("a link of subtotal %i and tax %i is accepted", async (amountSubtotal, taxAmount) => {
    const { result } = await create(linkInput(NOW, { amountSubtotal, taxAmount }));
    expect(result._unsafeUnwrap().amountTotal).toBe(amountSubtotal + taxAmount);
  });

  test("a charge may still be zero (nothing in the seeds forbids it)", async () => {
    const { result } = await create({
      kind: "charge",
      customerId: "cus_1",
      provider: "stripe",
      amountSubtotal: 0,
      currency: "GBP",
    });
    expect(result._unsafeUnwrap()).toMatchObject({ kind: "charge", amountTotal: 0 });
  });

  test.prop([createInputArb({ kind: "link", now: NOW })])(
    "every valid link the arbitraries make has a positive total",
    (input) => {
      expect(input.amountSubtotal + (input.taxAmount ?? 0)).toBeGreaterThan(0);
    },
  );
});

describe("a scope's account id follows the same text rules", () => {
  test.prop([malformedTextArb()])(
    "an account id that is not well-formed Unicode is invalid_request naming scope.accountId, nothing stored",
    async (accountId) => {
      const { links, store } = setup();
      const scope = { accountId, livemode: false };
      const created = await links.create(scope, linkInput(NOW));
      expect(created._unsafeUnwrapErr()).toMatchObject({
        code: "invalid_request",
        issues: [expect.objectContaining({ path: "scope.accountId" })],
      });
      expect(store.size()).toBe(0);
      expect((await links.get(scope, "pay_1"))._unsafeUnwrapErr().code).toBe("invalid_request");
    },
  );

  test("an astral account id is a scope like any other", async () => {
    const { links } = setup();
    const scope = { accountId: "acct_☕🐈‍⬛", livemode: false };
    const created = (await links.create(scope, linkInput(NOW)))._unsafeUnwrap();
    expect((await links.get(scope, created.id))._unsafeUnwrap().id).toBe(created.id);
  });
});
