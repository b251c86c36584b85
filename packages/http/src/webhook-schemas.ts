/**
 * The zod schemas of webhook endpoints, their deliveries and the event feed, in the payments API's
 * dialect: requests are validated with them, and `/openapi.json` documents them.
 */
import { z } from "@hono/zod-openapi";
import { DOMAIN_EVENT_NAMES, STATUSES } from "@paylink/core";
import { ListQueryA, PaymentA } from "./schemas.js";

const isoDate = z.iso.datetime({ offset: true });

/**
 * Every event type, as `@paylink/webhooks` names them in `WEBHOOK_EVENT_TYPES` (a test keeps the two
 * equal). Written out here because `@paylink/webhooks` is an optional peer: the transport must load
 * without it.
 */
export const EVENT_TYPES = ["payment_link", "charge"].flatMap((prefix) =>
  DOMAIN_EVENT_NAMES.map((name) => `${prefix}.${name}`),
) as [string, ...string[]];

/** Longest endpoint URL accepted (the same as `@paylink/webhooks`). */
const MAX_URL_LENGTH = 2048;

const endpointFields = {
  id: z.string().openapi({ example: "we_9vR2c0b1Yk3mQ4tZ" }),
  object: z.literal("webhook_endpoint"),
  url: z.string().openapi({ example: "https://merchant.example/hooks/paylink" }),
  events: z
    .array(z.enum(EVENT_TYPES))
    .nullable()
    .openapi({ description: "The event types sent to it; `null` for every type", example: null }),
  status: z.enum(["enabled", "disabled"]),
  disabledReason: z.enum(["gone", "failing"]).nullable().openapi({
    description:
      "Why it is disabled: `gone` (the receiver answered 410) or `failing` (it only failed for too long)",
  }),
  failingSince: isoDate.nullable().openapi({ description: "Start of the current run of failures" }),
  livemode: z.boolean(),
  createdAt: isoDate,
};

/** A webhook endpoint as every read shows it: never with its secret. */
export const WebhookEndpointA = z.strictObject(endpointFields).openapi("WebhookEndpoint");

/** A webhook endpoint as its creation shows it, the one time its signing secret is shown. */
export const CreatedWebhookEndpointA = z
  .strictObject({
    ...endpointFields,
    secret: z.string().openapi({
      description:
        "The Standard Webhooks signing secret (`whsec_…`). Shown only in this response: keep it, it is never shown again.",
      example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }),
  })
  .openapi("CreatedWebhookEndpoint");

/** Body of `POST /webhook_endpoints`. */
export const CreateWebhookEndpointA = z
  .strictObject({
    url: z.string().min(1).max(MAX_URL_LENGTH).openapi({
      description:
        "An absolute `http` or `https` URL without credentials, whose host resolves to public addresses only (loopback and private networks only where the server allows them; link-local never)",
      example: "https://merchant.example/hooks/paylink",
    }),
    events: z
      .array(z.enum(EVENT_TYPES, { error: "must be an event type such as payment_link.paid" }))
      .min(1)
      .max(EVENT_TYPES.length)
      .nullable()
      .optional()
      .openapi({
        description: "The event types to send, each once; left out (or `null`) for every type",
        example: ["payment_link.paid", "payment_link.canceled"],
      }),
  })
  .openapi("CreateWebhookEndpoint");

/** One event on its way to one endpoint, and what became of it so far. */
export const WebhookDeliveryA = z
  .strictObject({
    id: z.string().openapi({ example: "whd_Qm3lV0dX1c9aPz2w" }),
    object: z.literal("webhook_delivery"),
    endpointId: z.string().openapi({ example: "we_9vR2c0b1Yk3mQ4tZ" }),
    eventId: z.string().openapi({ description: "The `webhook-id` of every attempt", example: "evt_1" }),
    eventType: z.enum(EVENT_TYPES),
    status: z.enum(["pending", "succeeded", "dead"]).openapi({
      description:
        "`pending` until a 2xx (`succeeded`) or the last attempt failed (`dead`: retry it by hand)",
    }),
    attempts: z.number().int().min(0),
    lastStatusCode: z.number().int().nullable().openapi({ description: "HTTP status of the last attempt" }),
    lastError: z
      .string()
      .nullable()
      .openapi({ description: "What went wrong last (`timeout`, `HTTP 500` …)" }),
    nextAttemptAt: isoDate.nullable().openapi({ description: "When the next attempt is due, while pending" }),
    livemode: z.boolean(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .openapi("WebhookDelivery");

/** The payment inside an event: the payments API's fields and the lifecycle timestamps. */
const EventPaymentA = PaymentA.extend({
  viewedAt: isoDate.nullable(),
  attemptedAt: isoDate.nullable(),
  paidAt: isoDate.nullable(),
  canceledAt: isoDate.nullable(),
  expiredAt: isoDate.nullable(),
}).openapi("EventPayment");

/** A domain event, exactly as a webhook's body carries it. */
export const EventA = z
  .strictObject({
    id: z
      .string()
      .openapi({ description: "Stable across redeliveries: deduplicate on it", example: "evt_1" }),
    type: z.enum(EVENT_TYPES),
    paymentId: z.string().openapi({ example: "pay_demo_pending" }),
    accountId: z.string().openapi({ example: "acct_demo" }),
    livemode: z.boolean(),
    occurredAt: isoDate,
    previousStatus: z.enum(STATUSES).nullable().openapi({ description: "`null` for `created`" }),
    payment: EventPaymentA,
  })
  .openapi("Event");

/** `{ success: true, data }` of one schema. */
const envelope = (data: z.ZodType, name: string) =>
  z.strictObject({ success: z.literal(true), data }).openapi(name);

/** `{ success: true, data: [...], has_more }` of one schema. */
const list = (item: z.ZodType, name: string, what: string) =>
  z
    .strictObject({
      success: z.literal(true),
      data: z.array(item),
      has_more: z.boolean().openapi({
        description: `True when more ${what} follow; fetch them with \`starting_after=<last id of data>\`.`,
      }),
    })
    .openapi(name);

/** `{ success: true, data: endpoint }`, without its secret. */
export const WebhookEndpointEnvelopeA = envelope(WebhookEndpointA, "WebhookEndpointResponse");
/** `{ success: true, data: endpoint }` of `POST /webhook_endpoints`, with its secret. */
export const CreatedWebhookEndpointEnvelopeA = envelope(
  CreatedWebhookEndpointA,
  "CreatedWebhookEndpointResponse",
);
/** Every endpoint of the scope, oldest first, in one page. */
export const WebhookEndpointListA = z
  .strictObject({
    success: z.literal(true),
    data: z.array(WebhookEndpointA),
    has_more: z.literal(false).openapi({ description: "Always false: every endpoint is in one page." }),
  })
  .openapi("WebhookEndpointList");
/** `{ success: true, data: delivery }`. */
export const WebhookDeliveryEnvelopeA = envelope(WebhookDeliveryA, "WebhookDeliveryResponse");
/** A page of an endpoint's deliveries, newest first. */
export const WebhookDeliveryListA = list(WebhookDeliveryA, "WebhookDeliveryList", "deliveries");
/** A page of events, oldest first. */
export const EventListA = list(EventA, "EventList", "events");

/** Query of `GET /events`. */
export const EventQueryA = ListQueryA.extend({
  payment: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: "Only the events of this payment", example: "pay_demo_pending" }),
});
