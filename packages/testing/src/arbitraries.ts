import { type CreatePaymentInput, CURRENCIES, type Kind, type Scope } from "@paylink/core";
import fc from "fast-check";

/** A scope: one of a few accounts, live or test, so that collisions between scopes are likely. */
export const scopeArb = (): fc.Arbitrary<Scope> =>
  fc.record({ accountId: fc.constantFrom("acct_a", "acct_b", "acct_c"), livemode: fc.boolean() });

// Characters beyond ASCII that every store must keep exactly: astral characters (stored in UTF-16 as
// surrogate pairs), an emoji with a skin-tone modifier, a ZWJ sequence, a flag, a combining mark, CJK and
// right-to-left script. None is longer than 7 UTF-16 code units.
const WIDE_CHARACTERS = ["😀", "💳", "𝄞", "𠀋", "👍🏽", "👩‍💻", "🇬🇧", "é", "é", "中", "ש", "€"] as const;
const WIDEST = 7;

/**
 * Well-formed text of at most `maxLength` UTF-16 code units (the unit zod's `.max` counts) mixing ASCII
 * with astral characters, emoji sequences, combining marks and other scripts: text every store must
 * accept and give back unchanged.
 */
export const wellFormedTextArb = (
  options: { minLength?: number; maxLength?: number } = {},
): fc.Arbitrary<string> => {
  const maxLength = options.maxLength ?? 50;
  const piece = fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom(...WIDE_CHARACTERS));
  return fc
    .array(piece, {
      minLength: options.minLength ?? 0,
      maxLength: Math.max(options.minLength ?? 0, Math.floor(maxLength / WIDEST)),
    })
    .map((pieces) => pieces.join(""));
};

// A surrogate that is not half of a high-low pair; with the `u` flag a proper pair is one code point.
const LONE_SURROGATE = /\p{Cs}/u;
const highSurrogate = fc.integer({ min: 0xd800, max: 0xdbff }).map((unit) => String.fromCharCode(unit));
const lowSurrogate = fc.integer({ min: 0xdc00, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

/**
 * Text that is not well-formed Unicode: at least one lone high surrogate (`"\ud800"`), lone low
 * surrogate (`"\udc00"`), reversed pair (`"\udc00\ud800"`) or two halves of the same kind, alone or amid
 * ordinary and astral text, at most 40 UTF-16 code units. It has no UTF-8 encoding: PostgreSQL's `jsonb`
 * refuses it, so core must refuse it in every free-text field (`invalid_request`) before any store sees it.
 */
export const malformedTextArb = (): fc.Arbitrary<string> => {
  const broken = fc.oneof(
    fc.constantFrom("\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800", "\ude00\ud83d"),
    highSurrogate,
    lowSurrogate,
    fc.tuple(lowSurrogate, highSurrogate).map(([low, high]) => low + high),
    fc.tuple(highSurrogate, highSurrogate).map(([a, b]) => a + b),
    fc.tuple(lowSurrogate, lowSurrogate).map(([a, b]) => a + b),
  );
  return fc
    .tuple(wellFormedTextArb({ maxLength: 14 }), broken, wellFormedTextArb({ maxLength: 14 }))
    .map(([before, bad, after]) => before + bad + after)
    .filter((text) => LONE_SURROGATE.test(text));
};

/** Valid metadata: a few short keys with string, number, boolean or null values. */
export const metadataArb = () =>
  fc.dictionary(
    fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), wellFormedTextArb({ minLength: 1, maxLength: 40 })),
    fc.oneof(
      fc.string({ maxLength: 50 }),
      wellFormedTextArb({ maxLength: 50 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    ),
    { maxKeys: 5 },
  );

/**
 * Valid input of `create` for `kind` (either when omitted). Links expire between one minute and a
 * week after `now` and collect a positive total (a zero-total link is refused); a charge may be zero.
 */
export const createInputArb = (
  options: { kind?: Kind; now?: Date } = {},
): fc.Arbitrary<CreatePaymentInput> => {
  const now = (options.now ?? new Date()).getTime();
  const kind =
    options.kind === undefined ? fc.constantFrom<Kind>("link", "charge") : fc.constant(options.kind);
  return kind.chain((k) =>
    fc
      .record({
        kind: fc.constant(k),
        customerId: fc.stringMatching(/^cus_[A-Za-z0-9]{1,12}$/),
        provider: fc.constantFrom("stripe", "adyen", "dna"),
        // Zero is frequent, so zero-tax links, zero-subtotal links and zero-total charges all occur.
        amountSubtotal: fc.oneof(
          { weight: 1, arbitrary: fc.constant(0) },
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 10_000_000 }) },
        ),
        taxAmount: fc.oneof(
          { weight: 1, arbitrary: fc.constant(0) },
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
        ),
        currency: fc.constantFrom(...CURRENCIES),
        description: fc.option(
          fc.oneof(fc.string({ maxLength: 100 }), wellFormedTextArb({ maxLength: 100 })),
          { nil: null },
        ),
        metadata: metadataArb(),
        expiresAt:
          k === "link"
            ? fc.integer({ min: 60_000, max: 7 * 86_400_000 }).map((ms) => new Date(now + ms))
            : fc.constant(undefined),
      })
      .filter((input) => input.kind !== "link" || input.amountSubtotal + input.taxAmount > 0),
  );
};

/** The free-text fields of `create` ({@link FreeTextField}) that {@link malformedTextInputArb} spoils. */
export const FREE_TEXT_FIELDS = [
  "customerId",
  "provider",
  "description",
  "metadata key",
  "metadata value",
] as const;
export type FreeTextField = (typeof FREE_TEXT_FIELDS)[number];

/**
 * A `create` input (valid in every other respect, from {@link createInputArb}) whose one free-text field
 * holds {@link malformedTextArb} text, with `path`: the issue path `invalid_request` must name
 * (`customerId`, `metadata.<key>` …). Core must refuse every one of them and no store may see them.
 */
export const malformedTextInputArb = (
  options: { kind?: Kind; now?: Date } = {},
): fc.Arbitrary<{ input: CreatePaymentInput; field: FreeTextField; path: string }> =>
  fc
    .tuple(createInputArb(options), fc.constantFrom(...FREE_TEXT_FIELDS), malformedTextArb())
    .map(([valid, field, bad]) => {
      const metadata = { ...(valid.metadata ?? {}) };
      switch (field) {
        case "metadata key":
          metadata[bad] = "value";
          return { input: { ...valid, metadata }, field, path: `metadata.${bad}` };
        case "metadata value":
          metadata.note = bad;
          return { input: { ...valid, metadata }, field, path: "metadata.note" };
        default:
          return { input: { ...valid, [field]: bad }, field, path: field };
      }
    });

/**
 * The seed's example link (10.00 GBP + 2.00 tax, "For cappuccino") expiring an hour after `now`: a
 * fixed, valid `create` input for example-based tests. `overrides` replace fields (even with invalid ones).
 */
export function sampleLinkInput(now: Date, overrides: Record<string, unknown> = {}): CreatePaymentInput {
  return {
    customerId: "cus_1",
    provider: "stripe",
    amountSubtotal: 1000,
    taxAmount: 200,
    currency: "GBP",
    description: "For cappuccino",
    metadata: { order: "A-1" },
    expiresAt: new Date(now.getTime() + 3_600_000),
    ...overrides,
  } as CreatePaymentInput;
}

/** The commands ({@link CommandName}) a caller can send to an existing payment. */
export const COMMAND_NAMES = [
  "view",
  "startPayment",
  "paymentFailed",
  "paymentSucceeded",
  "cancel",
  "get",
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** One command, sometimes preceded by a clock move (so that expiry happens within sequences). */
export interface Step {
  readonly command: CommandName;
  /** Milliseconds to advance the clock before the command. */
  readonly advanceMs: number;
}

/** A sequence of steps; clock moves are mostly zero and sometimes large enough to pass any expiry. */
export const stepsArb = (maxLength = 12): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.record({
      command: fc.constantFrom(...COMMAND_NAMES),
      advanceMs: fc.oneof(
        { weight: 8, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 * 86_400_000 }) },
      ),
    }),
    { maxLength },
  );

/** A clock that tests move by hand. */
export interface FakeClock {
  now(): Date;
  advance(ms: number): void;
  set(date: Date): void;
}

/** A fake clock starting at `start` (default 2026-01-01T00:00:00Z). */
export function fakeClock(start = new Date("2026-01-01T00:00:00.000Z")): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
    set: (date) => {
      current = date.getTime();
    },
  };
}
