import { z } from "zod";
import { KINDS, STATUSES } from "./lifecycle.js";
import { isCurrency } from "./money.js";

// With the `u` flag a well-formed surrogate pair is one code point (an astral character such as an
// emoji), so only a surrogate that is not half of a pair matches: the same test as ES2024's
// `String.prototype.isWellFormed`, without depending on its lib typings.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `value` is well-formed Unicode: every UTF-16 surrogate is half of a high-low pair (a lone or
 * reversed one, `"\ud800"` or `"\udc00\ud800"`, is not). Why it matters: {@link TextSchema}.
 */
function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

const hasNoNul = (value: string) => !value.includes("\u0000");
const NUL_MESSAGE = "must not contain U+0000";
const MALFORMED_MESSAGE = "must be well-formed Unicode (no lone UTF-16 surrogate)";

/** Adds the checks of {@link TextSchema} to a string schema, keeping its own (length) checks. */
function storableText<T extends z.ZodString>(schema: T): T {
  return schema.refine(hasNoNul, NUL_MESSAGE).refine(isWellFormedText, MALFORMED_MESSAGE);
}

/**
 * Text a payment stores: any well-formed Unicode except U+0000. Neither U+0000 nor a lone UTF-16
 * surrogate (which has no UTF-8 encoding) can be stored by PostgreSQL, and no caller means either, so
 * both are refused up front (`invalid_request` naming the field) and every store accepts the same
 * payments.
 */
export const TextSchema = storableText(z.string());

/** True for text {@link TextSchema} accepts, checked without zod (core's fast path). */
export const isStorableText = (value: string): boolean => hasNoNul(value) && isWellFormedText(value);

/**
 * Who is asking ({@link Scope}): every read and write is confined to one account and one mode (live or
 * test). The account id is stored text, so it follows {@link TextSchema}'s rules.
 */
export const ScopeSchema = z.strictObject({
  accountId: storableText(z.string().min(1).max(255)),
  livemode: z.boolean(),
});
export type Scope = z.infer<typeof ScopeSchema>;

/** A non-negative safe integer amount in minor units (pence, cents, yen …). */
export const MinorUnitsSchema = z
  .number()
  .int("must be an integer amount in minor units")
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER, "must be a safe integer");

/** An ISO 4217 currency code in upper case. */
export const CurrencySchema = z
  .string()
  .refine(isCurrency, "must be an active ISO 4217 currency code, e.g. GBP");

/**
 * The merchant's own data on a payment ({@link Metadata}): up to 50 keys of at most 40 characters; values
 * are short strings, numbers, booleans or null.
 */
export const MetadataSchema = z
  .record(
    z.string().min(1).max(40),
    z.union([
      // Checked in one schema rather than a pipe, so the union reports the text's own issue
      // ("must be well-formed Unicode …") instead of a bare "Invalid input".
      storableText(z.string().max(500)),
      // zod 4's number refuses NaN and ±Infinity itself.
      z.number(),
      z.boolean(),
      z.null(),
    ]),
  )
  .superRefine((value, ctx) => {
    const keys = Object.keys(value);
    if (keys.length > 50) ctx.addIssue({ code: "custom", message: "must have at most 50 keys" });
    // Keys are checked here rather than in the key schema, whose issues zod reports only as
    // "Invalid key in record": this way the issue names the key and says what is wrong with it.
    for (const key of keys) {
      if (!hasNoNul(key)) ctx.addIssue({ code: "custom", path: [key], message: `key ${NUL_MESSAGE}` });
      else if (!isWellFormedText(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `key ${MALFORMED_MESSAGE}` });
      }
    }
  });
export type Metadata = z.infer<typeof MetadataSchema>;

const isoDate = z.iso.datetime({ offset: true });
const nullableDate = isoDate.nullable();

/**
 * Where a link stands at its payment provider ({@link ProviderState}), on links created through a
 * `PaymentGateway` only (without one, a payment has no `providerState`).
 * - `reference`: the provider's object (Stripe Payment Link, DNA payment link), or null when a payment was
 *   reported for a link Paylink did not create there.
 * - `stop`: `none` while the link is payable; `pending` from the cancel or expiry that must stop it (written
 *   in the same atomic write) until the provider confirms; `confirmed` once it did (or the object was paid,
 *   so it can take no more); `refused` when the provider will never stop it (`stopDetail` says why).
 * - `paymentReference`: the provider's payment that paid the link, on time or late (the refund's key).
 * - `refund`: of a late payment: `none`, `pending` (the provider is settling it), `succeeded` or `refused`.
 * - `earlierPaymentReferences`: present only on a link the provider took more than one payment on (two
 *   sessions open at once): the provider payments before `paymentReference`, oldest first. Each is one
 *   late payment already recorded; a later report of one of them changes nothing.
 */
export const ProviderStateSchema = z.strictObject({
  reference: z.string().nullable(),
  stop: z.enum(["none", "pending", "confirmed", "refused"]),
  stopDetail: z.string().nullable(),
  paymentReference: z.string().nullable(),
  refund: z.enum(["none", "pending", "succeeded", "refused"]),
  refundReference: z.string().nullable(),
  refundDetail: z.string().nullable(),
  earlierPaymentReferences: z.array(z.string()).optional(),
});
export type ProviderState = z.infer<typeof ProviderStateSchema>;

/**
 * A payment as callers see it ({@link Payment}): every field of the payments API's `payment` object plus
 * the lifecycle timestamps (`viewedAt`, `attemptedAt`, `paidAt`, `canceledAt`, `expiredAt`, null until
 * they happen). Dates are ISO-8601 strings in UTC.
 */
export const PaymentSchema = z.strictObject({
  id: z.string(),
  customerId: z.string(),
  kind: z.enum(KINDS),
  status: z.enum(STATUSES),
  provider: z.string(),
  amountSubtotal: MinorUnitsSchema,
  taxAmount: MinorUnitsSchema,
  amountTotal: MinorUnitsSchema,
  currency: CurrencySchema,
  description: z.string().nullable(),
  metadata: MetadataSchema,
  url: z.string(),
  expiresAt: nullableDate,
  createdAt: isoDate,
  updatedAt: isoDate,
  object: z.literal("payment"),
  livemode: z.boolean(),
  viewedAt: nullableDate,
  attemptedAt: nullableDate,
  paidAt: nullableDate,
  canceledAt: nullableDate,
  expiredAt: nullableDate,
  providerState: ProviderStateSchema.optional(),
});
export type Payment = z.infer<typeof PaymentSchema>;

/**
 * Input of `create`; {@link CreatePaymentInput} is what a caller writes, defaults left out. Amounts are
 * integers in minor units; `amountTotal` is computed (`amountSubtotal + taxAmount`) and never accepted.
 * A link must collect a positive total (a charge may be zero). Links must expire in the future; charges
 * never expire. Free text (`customerId`, `provider`, `description`, metadata keys and string values)
 * follows {@link TextSchema}.
 */
export const CreatePaymentInputSchema = z
  .strictObject({
    kind: z.enum(KINDS).default("link"),
    customerId: TextSchema.pipe(z.string().min(1).max(255)),
    provider: TextSchema.pipe(z.string().min(1).max(64)),
    amountSubtotal: MinorUnitsSchema,
    taxAmount: MinorUnitsSchema.default(0),
    currency: CurrencySchema,
    description: TextSchema.pipe(z.string().max(1000)).nullable().default(null),
    metadata: MetadataSchema.default({}),
    // zod 4's date refuses an invalid Date itself.
    expiresAt: z.union([z.date(), isoDate]).nullable().optional(),
  })
  .superRefine((input, ctx) => {
    const total = input.amountSubtotal + input.taxAmount;
    if (!Number.isSafeInteger(total)) {
      ctx.addIssue({
        code: "custom",
        path: ["taxAmount"],
        message: "amountSubtotal + taxAmount must be a safe integer",
      });
    }
    if (input.kind === "link" && total === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["amountSubtotal"],
        message: "a payment link must collect a positive total (amountSubtotal + taxAmount > 0)",
      });
    }
    const hasExpiry = input.expiresAt !== undefined && input.expiresAt !== null;
    if (input.kind === "link" && !hasExpiry) {
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "a payment link needs an expiry date" });
    }
    if (input.kind === "charge" && hasExpiry) {
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "charges do not expire" });
    }
  });
export type CreatePaymentInput = z.input<typeof CreatePaymentInputSchema>;
