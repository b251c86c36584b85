import {
  type CreatePaymentInput,
  CURRENCIES,
  type Kind,
  type PaylinkError,
  type Payment,
  type PaymentLinks,
  type Scope,
} from "@paylink/core";
import fc from "fast-check";

/** A scope: one of a few accounts, live or test, so that collisions between scopes are likely. */
export const scopeArb = (): fc.Arbitrary<Scope> =>
  fc.record({ accountId: fc.constantFrom("acct_a", "acct_b", "acct_c"), livemode: fc.boolean() });

/** Valid metadata: a few short keys with string, number, boolean or null values. */
export const metadataArb = () =>
  fc.dictionary(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.boolean(), fc.constant(null)),
    { maxKeys: 5 },
  );

/**
 * Valid input of `create` for `kind` (either when omitted). Links expire between one minute and a
 * week after `now`.
 */
export const createInputArb = (
  options: { kind?: Kind; now?: Date } = {},
): fc.Arbitrary<CreatePaymentInput> => {
  const now = (options.now ?? new Date()).getTime();
  const kind =
    options.kind === undefined ? fc.constantFrom<Kind>("link", "charge") : fc.constant(options.kind);
  return kind.chain((k) =>
    fc.record({
      kind: fc.constant(k),
      customerId: fc.stringMatching(/^cus_[A-Za-z0-9]{1,12}$/),
      provider: fc.constantFrom("stripe", "adyen", "dna"),
      amountSubtotal: fc.integer({ min: 0, max: 10_000_000 }),
      taxAmount: fc.integer({ min: 0, max: 1_000_000 }),
      currency: fc.constantFrom(...CURRENCIES),
      description: fc.option(fc.string({ maxLength: 100 }), { nil: null }),
      metadata: metadataArb(),
      expiresAt:
        k === "link"
          ? fc.integer({ min: 60_000, max: 7 * 86_400_000 }).map((ms) => new Date(now + ms))
          : fc.constant(undefined),
    }),
  );
};

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

/** The commands a caller can send to an existing payment. */
export const COMMAND_NAMES = [
  "view",
  "startPayment",
  "paymentFailed",
  "paymentSucceeded",
  "cancel",
  "get",
] as const;
/** A command a caller can send to an existing payment. */
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

/** Sends `command` to payment `id`, normalising every command to `Result<Payment>`-like outcomes. */
export async function send(
  links: PaymentLinks,
  scope: Scope,
  id: string,
  command: CommandName,
): Promise<{ ok: true; payment: Payment; changed?: boolean } | { ok: false; error: PaylinkError }> {
  if (command === "cancel") {
    const result = await links.cancel(scope, id);
    return result.isOk()
      ? { ok: true, payment: result.value.payment, changed: result.value.changed }
      : { ok: false, error: result.error };
  }
  const result = await links[command](scope, id);
  return result.isOk() ? { ok: true, payment: result.value } : { ok: false, error: result.error };
}

/**
 * Payments in any reachable state: creates one from `input` and replays `steps` through the commands,
 * moving `clock` as the steps say. Returns the payment's id; errors along the way are part of the walk.
 */
export async function reach(
  links: PaymentLinks,
  clock: FakeClock,
  scope: Scope,
  input: CreatePaymentInput,
  steps: readonly Step[],
): Promise<string> {
  const created = await links.create(scope, input);
  if (created.isErr()) throw new Error(`reach: create failed: ${created.error.message}`);
  for (const step of steps) {
    clock.advance(step.advanceMs);
    await send(links, scope, created.value.id, step.command);
  }
  return created.value.id;
}
