/**
 * The objects of the fake Stripe (test/fake-stripe.ts), in Stripe's JSON shapes (API reference:
 * payment_links, checkout.sessions, refunds, events), reduced to the fields the gateway and its tests
 * read. Ids carry Stripe's prefixes (`plink_`, `cs_test_`, `pi_`, `re_`, `evt_`).
 */

let counter = 0;
/** A fresh id with Stripe's prefix. */
export const newId = (prefix: string) =>
  `${prefix}_${(++counter).toString(36).padStart(6, "0")}${Math.random().toString(36).slice(2, 10)}`;
const now = () => Math.floor(Date.now() / 1000);

/** A Stripe error body: `{ error: { type, code, message } }` with its HTTP status. */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: { type: string; code?: string; message: string; param?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

/** `resource_missing`, as Stripe answers an unknown id. */
export const missing = (kind: string, id: string) =>
  new FakeStripeError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${kind}: '${id}'`,
    param: "id",
  });

/** A refusal of a request's parameters (HTTP 400). */
export const invalid = (message: string, code?: string) =>
  new FakeStripeError(400, { type: "invalid_request_error", message, ...(code ? { code } : {}) });

/** A `payment_link` object. */
export interface FakePaymentLink {
  id: string;
  object: "payment_link";
  active: boolean;
  url: string;
  currency: string;
  livemode: false;
  metadata: Record<string, string>;
  after_completion: { type: string; redirect?: { url: string } };
  payment_intent_data: { metadata: Record<string, string> } | null;
  restrictions: { completed_sessions: { count: number; limit: number } } | null;
  /** Not in Stripe's JSON (line items are a separate list there): what one session charges. */
  unit_amount: number;
  product_name: string;
}

/** A `checkout.session` object (payment mode). */
export interface FakeSession {
  id: string;
  object: "checkout.session";
  payment_link: string;
  status: "open" | "complete" | "expired";
  payment_status: "unpaid" | "paid";
  mode: "payment";
  amount_total: number;
  amount_subtotal: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string | null;
  url: string | null;
  created: number;
  expires_at: number;
  livemode: false;
}

/** A `payment_intent` object. */
export interface FakePaymentIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_received: number;
  currency: string;
  metadata: Record<string, string>;
  status: "processing" | "succeeded" | "requires_payment_method";
  livemode: false;
}

/** A `refund` object. */
export interface FakeRefund {
  id: string;
  object: "refund";
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string;
  metadata: Record<string, string>;
  reason: null;
  status: "succeeded";
  created: number;
}

/** A payment link from `POST /v1/payment_links`'s decoded form. */
export function paymentLinkFrom(params: Form): FakePaymentLink {
  const item = record(record(params.line_items)["0"]);
  const price = record(item.price_data);
  const currency = String(price.currency ?? "");
  const unitAmount = Number(price.unit_amount);
  if (!currency) throw invalid("Missing required param: line_items[0][price_data][currency].");
  if (!Number.isInteger(unitAmount) || unitAmount < 1) {
    throw invalid("Invalid integer: line_items[0][price_data][unit_amount]", "parameter_invalid_integer");
  }
  const limit = record(record(params.restrictions).completed_sessions).limit;
  const after = record(params.after_completion);
  const id = newId("plink");
  return {
    id,
    object: "payment_link",
    active: true,
    url: `https://buy.stripe.com/test_${id.slice(6)}`,
    currency,
    livemode: false,
    metadata: strings(params.metadata),
    after_completion:
      after.type === "redirect"
        ? { type: "redirect", redirect: { url: String(record(after.redirect).url) } }
        : { type: "hosted_confirmation" },
    payment_intent_data: params.payment_intent_data
      ? { metadata: strings(record(params.payment_intent_data).metadata) }
      : null,
    restrictions: limit === undefined ? null : { completed_sessions: { count: 0, limit: Number(limit) } },
    unit_amount: unitAmount,
    product_name: String(record(price.product_data).name ?? ""),
  };
}

/** The session Stripe opens when a customer visits `link`: it copies the link's metadata. */
export function sessionFor(link: FakePaymentLink): FakeSession {
  const id = newId("cs_test");
  return {
    id,
    object: "checkout.session",
    payment_link: link.id,
    status: "open",
    payment_status: "unpaid",
    mode: "payment",
    amount_total: link.unit_amount,
    amount_subtotal: link.unit_amount,
    currency: link.currency,
    metadata: { ...link.metadata },
    payment_intent: null,
    url: `https://checkout.stripe.com/c/pay/${id}`,
    created: now(),
    expires_at: now() + 86_400,
    livemode: false,
  };
}

/** The PaymentIntent a session confirms, with the link's `payment_intent_data.metadata`. */
export function intentFor(link: FakePaymentLink, session: FakeSession): FakePaymentIntent {
  return {
    id: newId("pi"),
    object: "payment_intent",
    amount: session.amount_total,
    amount_received: 0,
    currency: session.currency,
    metadata: { ...(link.payment_intent_data?.metadata ?? {}) },
    status: "processing",
    livemode: false,
  };
}

/** A refund of `amount` of `intent`. */
export function refundOf(
  intent: FakePaymentIntent,
  amount: number,
  metadata: Record<string, string>,
): FakeRefund {
  return {
    id: newId("re"),
    object: "refund",
    amount,
    currency: intent.currency,
    payment_intent: intent.id,
    charge: `ch_${intent.id.slice(3)}`,
    metadata,
    reason: null,
    status: "succeeded",
    created: now(),
  };
}

/** A Stripe event around a snapshot of `object`. */
export function eventOf(type: string, object: object) {
  return {
    id: newId("evt"),
    object: "event",
    api_version: "2025-11-17.clover",
    created: now(),
    data: { object: structuredClone(object) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** A decoded form or query: nested objects, arrays as objects keyed "0", "1" … */
export type Form = { [key: string]: string | Form };

/**
 * Decodes `application/x-www-form-urlencoded` as the SDK writes it (`a[b][0][c]=v`, brackets left
 * unescaped) into nested objects.
 */
export function parseForm(text: string): Form {
  const root: Form = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = key.split(/[[\]]+/).filter((part) => part !== "");
    let node = root;
    path.forEach((part, index) => {
      if (index === path.length - 1) node[part] = value;
      else {
        const next = node[part];
        const child: Form = typeof next === "object" ? next : {};
        node[part] = child;
        node = child;
      }
    });
  }
  return root;
}

function record(value: unknown): Form {
  return typeof value === "object" && value !== null ? (value as Form) : {};
}

function strings(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(value)).filter(([, v]) => typeof v === "string")) as Record<
    string,
    string
  >;
}

/** `GET /v1/checkout/sessions`: newest first, as Stripe lists, filtered; `starting_after` pages on. */
export function listSessions(sessions: FakeSession[], params: Form): object {
  const limit = Math.min(100, Number(params.limit ?? 10));
  let all = [...sessions].reverse();
  if (typeof params.payment_link === "string")
    all = all.filter((s) => s.payment_link === params.payment_link);
  if (typeof params.status === "string") all = all.filter((s) => s.status === params.status);
  const after = params.starting_after;
  const from = typeof after === "string" ? all.findIndex((s) => s.id === after) + 1 : 0;
  const data = all.slice(from, from + limit);
  return { object: "list", url: "/v1/checkout/sessions", has_more: from + limit < all.length, data };
}

/** `POST /v1/refunds`: a refund of a succeeded PaymentIntent, never more than is left of it. */
export function refundFrom(
  intents: Map<string, FakePaymentIntent>,
  refunds: FakeRefund[],
  params: Form,
): FakeRefund {
  const intentId = String(params.payment_intent ?? "");
  const intent = intents.get(intentId);
  if (!intent) {
    // An unknown id in a parameter is a 400 at Stripe (a 404 is for the URL's own object).
    throw new FakeStripeError(400, {
      type: "invalid_request_error",
      code: "resource_missing",
      message: `No such payment_intent: '${intentId}'`,
      param: "payment_intent",
    });
  }
  if (intent.status !== "succeeded") {
    throw invalid(`PaymentIntent ${intentId} has not succeeded.`, "charge_not_refundable");
  }
  const refunded = refunds
    .filter((r) => r.payment_intent === intent.id)
    .reduce((sum, r) => sum + r.amount, 0);
  if (refunded >= intent.amount) {
    throw invalid(`Charge for ${intentId} has already been refunded.`, "charge_already_refunded");
  }
  const amount = params.amount === undefined ? intent.amount - refunded : Number(params.amount);
  if (amount > intent.amount - refunded) {
    throw invalid("Refund amount is greater than unrefunded amount on charge.", "amount_too_large");
  }
  return refundOf(intent, amount, strings(params.metadata));
}
