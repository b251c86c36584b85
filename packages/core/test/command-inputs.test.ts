import { fc, test } from "@fast-check/vitest";
import { CreatePaymentInputSchema, MetadataSchema, PaymentSchema, ScopeSchema } from "@paylink/core";
import { describe, expect } from "vitest";
import { linkInput, SCOPE, setup } from "./helpers.js";

const NOW = new Date("2026-01-01T00:00:00.000Z");

/** The issues of an `invalid_request`, or the error itself when it is another one. */
const issuesOf = (result: { isErr(): boolean; _unsafeUnwrapErr(): unknown }) => {
  const error = result._unsafeUnwrapErr() as { code: string; issues?: unknown };
  return error.code === "invalid_request" ? error.issues : error;
};

describe("scopes", () => {
  test("an account id of 1 to 255 characters of storable text, and a boolean mode", async () => {
    const { links } = setup();
    const accepted = async (scope: unknown) => {
      const result = await links.get(scope as never, "pay_missing");
      return result._unsafeUnwrapErr().code === "not_found";
    };
    expect(await accepted({ accountId: "a", livemode: true })).toBe(true);
    expect(await accepted({ accountId: "a".repeat(255), livemode: false })).toBe(true);
    expect(await accepted({ accountId: "a".repeat(256), livemode: false })).toBe(false);
    expect(await accepted({ accountId: "", livemode: false })).toBe(false);
    expect(await accepted({ accountId: ["acct_1"], livemode: false })).toBe(false);
    expect(await accepted({ accountId: "acct_\u0000", livemode: false })).toBe(false);
    expect(await accepted({ accountId: "acct_\ud800", livemode: false })).toBe(false);
    expect(await accepted({ accountId: "acct_1", livemode: "false" })).toBe(false);
    expect(await accepted({ accountId: "acct_1" })).toBe(false);
    expect(await accepted(Object.assign(() => {}, SCOPE))).toBe(false);
    expect(await accepted("acct_1")).toBe(false);
    expect(await accepted(null)).toBe(false);
  });

  test.prop([
    fc.record({
      accountId: fc.oneof(
        fc.string({ minLength: 0, maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 8 }),
        fc.anything(),
      ),
      livemode: fc.oneof(fc.boolean(), fc.anything()),
    }),
  ])(
    "a command accepts a scope exactly when ScopeSchema does, and names the scope's fields when not",
    async (scope) => {
      const { links } = setup();
      const result = await links.get(scope as never, "pay_missing");
      const error = result._unsafeUnwrapErr();
      if (ScopeSchema.safeParse(scope).success) expect(error.code).toBe("not_found");
      else {
        expect(error.code).toBe("invalid_request");
        if (error.code === "invalid_request") {
          expect(error.issues.length).toBeGreaterThan(0);
          for (const issue of error.issues) expect(issue.path).toMatch(/^scope(\.|$)/);
        }
      }
    },
  );

  test("list refuses a malformed scope before asking the store", async () => {
    const { links } = setup();
    const result = await links.list({ accountId: "", livemode: false });
    expect(result._unsafeUnwrapErr().code).toBe("invalid_request");
  });
});

describe("ids", () => {
  test("an id that is not a string is an invalid request naming the id", async () => {
    const { links } = setup();
    expect(issuesOf(await links.cancel(SCOPE, 42 as never))).toEqual([
      { path: "id", message: "must be a string" },
    ]);
  });
});

describe("create's input", () => {
  const refused = async (overrides: Record<string, unknown>) => {
    const { links } = setup();
    return issuesOf(await links.create(SCOPE, linkInput(NOW, overrides)));
  };

  test("amounts are safe integers in minor units, and so is their total", async () => {
    expect(await refused({ amountSubtotal: 10.5 })).toEqual([
      { path: "amountSubtotal", message: "must be an integer amount in minor units" },
    ]);
    expect(await refused({ amountSubtotal: 2 ** 53, taxAmount: 0 })).toContainEqual({
      path: "amountSubtotal",
      message: "must be a safe integer",
    });
    expect(await refused({ amountSubtotal: Number.MAX_SAFE_INTEGER, taxAmount: 1 })).toEqual([
      { path: "taxAmount", message: "amountSubtotal + taxAmount must be a safe integer" },
    ]);
  });

  test("the currency is an active ISO 4217 code", async () => {
    expect(await refused({ currency: "ABC" })).toEqual([
      { path: "currency", message: "must be an active ISO 4217 currency code, e.g. GBP" },
    ]);
  });

  test("metadata has at most 50 keys", async () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    const { links } = setup();
    expect((await links.create(SCOPE, linkInput(NOW, { metadata: keys(50) }))).isOk()).toBe(true);
    expect(await refused({ metadata: keys(51) })).toEqual([
      { path: "metadata", message: "must have at most 50 keys" },
    ]);
  });

  test("a link needs an expiry in the future; a charge has none", async () => {
    const link = { path: "expiresAt", message: "a payment link needs an expiry date" };
    expect(await refused({ expiresAt: null })).toEqual([link]);
    expect(await refused({ expiresAt: undefined })).toEqual([link]);
    expect(await refused({ expiresAt: NOW })).toEqual([
      { path: "expiresAt", message: "must be in the future" },
    ]);
    expect(await refused({ kind: "charge" })).toEqual([
      { path: "expiresAt", message: "charges do not expire" },
    ]);
    const { links } = setup();
    const charge = await links.create(SCOPE, linkInput(NOW, { kind: "charge", expiresAt: null }));
    expect(charge._unsafeUnwrap().expiresAt).toBeNull();
    const soon = await links.create(SCOPE, linkInput(NOW, { expiresAt: new Date(NOW.getTime() + 1) }));
    expect(soon._unsafeUnwrap().expiresAt).toBe("2026-01-01T00:00:00.001Z");
  });

  test("an expiry that is an invalid Date is refused, naming expiresAt", async () => {
    expect(await refused({ expiresAt: new Date(Number.NaN) })).toEqual([
      { path: "expiresAt", message: expect.any(String) },
    ]);
  });

  test("metadata numbers are finite", async () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(await refused({ metadata: { n: value } })).toEqual([
        { path: "metadata.n", message: expect.any(String) },
      ]);
    }
  });

  test("an expiry with a UTC offset is accepted and stored in UTC", async () => {
    const { links } = setup();
    const created = await links.create(SCOPE, linkInput(NOW, { expiresAt: "2026-01-01T02:00:00+01:00" }));
    expect(created._unsafeUnwrap().expiresAt).toBe("2026-01-01T01:00:00.000Z");
  });
});

describe("the schemas' own checks", () => {
  test("report zod custom issues, as any refinement does, for callers of the schemas themselves", () => {
    const codes = (result: { error?: { issues: Array<{ code: string }> } }) =>
      result.error?.issues.map((issue) => issue.code);
    const keys = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]));
    expect(codes(MetadataSchema.safeParse(keys))).toEqual(["custom"]);
    expect(codes(MetadataSchema.safeParse({ "a\u0000": 1 }))).toEqual(["custom"]);
    expect(codes(MetadataSchema.safeParse({ "\udc00": 1 }))).toEqual(["custom"]);
    for (const overrides of [
      { amountSubtotal: Number.MAX_SAFE_INTEGER, taxAmount: 1 },
      { amountSubtotal: 0, taxAmount: 0 },
      { expiresAt: null },
      { kind: "charge" },
    ]) {
      expect(
        codes(CreatePaymentInputSchema.safeParse(linkInput(NOW, overrides))),
        JSON.stringify(overrides),
      ).toEqual(["custom"]);
    }
  });
});

describe("PaymentSchema", () => {
  test("describes the payments commands return, and nothing else", async () => {
    const { links } = setup();
    const payment = (await links.create(SCOPE, linkInput(NOW)))._unsafeUnwrap();
    const viewed = (await links.view(SCOPE, payment.id))._unsafeUnwrap();
    expect(PaymentSchema.parse(payment)).toEqual(payment);
    expect(PaymentSchema.parse(viewed)).toEqual(viewed);
    expect(PaymentSchema.safeParse({ ...payment, object: "invoice" }).success).toBe(false);
    expect(PaymentSchema.safeParse({ ...payment, color: "red" }).success).toBe(false);
    expect(PaymentSchema.safeParse({ ...payment, amountTotal: -1 }).success).toBe(false);
  });
});

describe("paging arguments", () => {
  test("expireDue takes a positive integer limit", async () => {
    const { links, clock } = setup();
    for (let i = 0; i < 2; i++) await links.create(SCOPE, linkInput(clock.now()));
    clock.advance(2 * 3_600_000);
    const issue = [{ path: "limit", message: "must be a positive integer" }];
    expect(issuesOf(await links.expireDue(0))).toEqual(issue);
    expect(issuesOf(await links.expireDue(1.5))).toEqual(issue);
    expect((await links.expireDue(1))._unsafeUnwrap()).toBe(1);
  });

  test("list takes a limit from 1 to 100 and a payment id to start after", async () => {
    const { links, clock } = setup();
    for (let i = 0; i < 2; i++) await links.create(SCOPE, linkInput(clock.now()));
    const issue = [{ path: "limit", message: "must be an integer from 1 to 100" }];
    for (const limit of [0, 101, 1.5]) expect(issuesOf(await links.list(SCOPE, { limit }))).toEqual(issue);
    expect((await links.list(SCOPE, { limit: 1 }))._unsafeUnwrap()).toHaveLength(1);
    expect((await links.list(SCOPE, { limit: 100 }))._unsafeUnwrap()).toHaveLength(2);
    expect(issuesOf(await links.list(SCOPE, { startingAfter: 42 as never }))).toEqual([
      { path: "startingAfter", message: "must be a payment id" },
    ]);
  });

  test("events takes integers after ≥ 0 and limit ≥ 1", async () => {
    const { links, clock } = setup();
    await links.create(SCOPE, linkInput(clock.now()));
    const issue = [{ path: "after", message: "after ≥ 0 and limit ≥ 1 must be integers" }];
    for (const options of [
      { after: -1 },
      { after: 0.5 },
      { limit: 0 },
      { limit: 1.5 },
      { after: Number.NaN },
    ]) {
      expect(issuesOf(await links.events(options))).toEqual(issue);
    }
    expect((await links.events({ after: 0, limit: 1 }))._unsafeUnwrap()).toHaveLength(1);
  });
});
