import { z } from "zod";
import { KINDS, STATUSES } from "./lifecycle.js";
import { isCurrency } from "./money.js";

/** Who is asking: every read and write is confined to one account and one mode (live or test). */
export const ScopeSchema = z.strictObject({
  accountId: z.string().min(1).max(255),
  livemode: z.boolean(),
});
/** Who is asking: every read and write is confined to one account and one mode (live or test). */
export type Scope = z.infer<typeof ScopeSchema>;

/**
 * Text a payment stores: any Unicode except U+0000, which PostgreSQL cannot store and no caller means —
 * refused up front so that every store accepts the same payments.
 */
export const TextSchema = z.string().refine((value) => !value.includes("\u0000"), "must not contain U+0000");

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

/** Metadata: up to 50 keys of at most 40 characters; values are short strings, numbers, booleans or null. */
export const MetadataSchema = z
  .record(
    TextSchema.pipe(z.string().min(1).max(40)),
    z.union([
      TextSchema.pipe(z.string().max(500)),
      z.number().refine(Number.isFinite, "must be finite"),
      z.boolean(),
      z.null(),
    ]),
  )
  .refine((value) => Object.keys(value).length <= 50, "must have at most 50 keys");
/** Metadata attached to a payment by the merchant. */
export type Metadata = z.infer<typeof MetadataSchema>;

const isoDate = z.iso.datetime({ offset: true });
const nullableDate = isoDate.nullable();

/**
 * A payment as callers see it: every field of seed 000's `payment` object plus the lifecycle timestamps
 * (`viewedAt`, `attemptedAt`, `paidAt`, `canceledAt`, `expiredAt`, null until they happen). Dates are
 * ISO-8601 strings in UTC.
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
});
/** A payment as callers see it. */
export type Payment = z.infer<typeof PaymentSchema>;

/**
 * Input of `create`. Amounts are integers in minor units; `amountTotal` is computed
 * (`amountSubtotal + taxAmount`) and never accepted. Links must expire in the future; charges never expire.
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
    expiresAt: z.union([z.date(), isoDate]).nullable().optional(),
  })
  .superRefine((input, ctx) => {
    if (!Number.isSafeInteger(input.amountSubtotal + input.taxAmount)) {
      ctx.addIssue({
        code: "custom",
        path: ["taxAmount"],
        message: "amountSubtotal + taxAmount must be a safe integer",
      });
    }
    const hasExpiry = input.expiresAt !== undefined && input.expiresAt !== null;
    if (input.kind === "link" && !hasExpiry) {
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "a payment link needs an expiry date" });
    }
    if (input.kind === "charge" && hasExpiry) {
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "charges do not expire" });
    }
    if (input.expiresAt instanceof Date && Number.isNaN(input.expiresAt.getTime())) {
      ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be a valid date" });
    }
  });
/** Input of `create`, as the caller writes it. */
export type CreatePaymentInput = z.input<typeof CreatePaymentInputSchema>;
