/**
 * The endpoints of webhook endpoints, their deliveries and the event feed: each parses its input, runs
 * `@paylink/webhooks`' commands (or reads the store's {@link EventFeed}) and returns an {@link Outcome}
 * in the JSON shapes of `webhook-schemas.ts`. Only the payments API's dialect serves them.
 */
import { errors, type PaylinkError, type Scope } from "@paylink/core";
import type { EventFeed, WebhookDelivery, WebhookEndpoint } from "@paylink/core/store";
import type { WebhookEndpoints } from "@paylink/webhooks";
import { issuesOf } from "./body.js";
import type { Outcome } from "./dialect.js";
import {
  cursorPage,
  type Endpoint,
  idOf,
  type Parsed,
  parseQuery,
  type Read,
  type Services,
} from "./endpoints.js";
import { httpError, invalidParameters } from "./errors.js";
import { EmptyBody, ListQueryA } from "./schemas.js";
import { CreateWebhookEndpointA, EventQueryA } from "./webhook-schemas.js";

/** A webhook endpoint in the payments API: its signing secret only when `withSecret` (its creation). */
export function toWebhookEndpointA(endpoint: WebhookEndpoint, withSecret = false) {
  const shown = {
    id: endpoint.id,
    object: "webhook_endpoint" as const,
    url: endpoint.url,
    events: endpoint.events === null ? null : [...endpoint.events],
    status: endpoint.status,
    disabledReason: endpoint.disabledReason,
    failingSince: endpoint.failingSince,
    livemode: endpoint.livemode,
    createdAt: endpoint.createdAt,
  };
  return withSecret ? { ...shown, secret: endpoint.secret } : shown;
}

/** A delivery in the payments API: what became of it, without its body (the event, see `GET /events`). */
export function toWebhookDeliveryA(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    object: "webhook_delivery" as const,
    endpointId: delivery.endpointId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.nextAttemptAt,
    livemode: delivery.livemode,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

/** Core's `not_found` as the missing thing's own 404; every other refusal as core's. */
const refusal = (error: PaylinkError, message: string, param: string): Outcome =>
  error.code === "not_found" ? httpError("resource_missing", message, { param }) : { refused: error };

const NO_ENDPOINT = "No such webhook endpoint.";
const NO_DELIVERY = "No such delivery of this webhook endpoint.";

/** The app's webhook commands; the router serves these routes only when it has them. */
function webhooksOf(services: Services): WebhookEndpoints {
  if (services.webhooks === undefined) throw new Error("webhook routes served without `webhooks`");
  return services.webhooks;
}

/** The `{id}` of a webhook endpoint; an id outside the pattern is missing without a lookup. */
function endpointIdOf(params: Readonly<Record<string, string>>, idPattern: RegExp): Parsed<string> {
  const id = idOf(params, idPattern);
  return id.ok ? id : { ok: false, error: httpError("resource_missing", NO_ENDPOINT, { param: "id" }) };
}

/** `POST /webhook_endpoints`: the new endpoint, with its secret (the only time it is shown). */
export const createWebhookEndpoint: Endpoint<{ url: string; events?: string[] | null }> = {
  parse({ body }) {
    const parsed = CreateWebhookEndpointA.safeParse(body);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
  },
  run(services, { scope }, input) {
    // `@paylink/webhooks` decides what a URL may be (scheme, credentials, where its host resolves) and
    // which event types exist; it stores nothing it refuses.
    return webhooksOf(services)
      .create(scope, input)
      .then((result) =>
        result.isOk() ? { data: toWebhookEndpointA(result.value, true) } : { refused: result.error },
      );
  },
};

/** `GET /webhook_endpoints`: every endpoint of the scope, oldest first, in one page. */
export const listWebhookEndpoints: Endpoint<undefined> = {
  parse: () => ({ ok: true, value: undefined }),
  run(services, { scope }) {
    return webhooksOf(services)
      .list(scope)
      .then((result) =>
        result.isOk()
          ? { list: result.value.map((endpoint) => toWebhookEndpointA(endpoint)), hasMore: false }
          : { refused: result.error },
      );
  },
};

/** `GET /webhook_endpoints/{id}`. */
export const getWebhookEndpoint: Endpoint<string> = {
  parse: ({ params }, idPattern) => endpointIdOf(params, idPattern),
  run(services, { scope }, id) {
    return webhooksOf(services)
      .get(scope, id)
      .then((result) =>
        result.isOk() ? { data: toWebhookEndpointA(result.value) } : refusal(result.error, NO_ENDPOINT, "id"),
      );
  },
};

/** `DELETE /webhook_endpoints/{id}`: the endpoint as it was; its deliveries go with it. */
export const deleteWebhookEndpoint: Endpoint<string> = {
  parse: ({ params }, idPattern) => endpointIdOf(params, idPattern),
  run(services, { scope }, id) {
    return webhooksOf(services)
      .delete(scope, id)
      .then((result) =>
        result.isOk() ? { data: toWebhookEndpointA(result.value) } : refusal(result.error, NO_ENDPOINT, "id"),
      );
  },
};

interface DeliveriesInput {
  readonly endpointId: string;
  readonly limit: number;
  readonly startingAfter: string | undefined;
}

/** `GET /webhook_endpoints/{id}/deliveries?limit&starting_after`: newest first, with `has_more`. */
export const listWebhookDeliveries: Endpoint<DeliveriesInput> = {
  parse({ params, query }, idPattern) {
    const id = endpointIdOf(params, idPattern);
    if (!id.ok) return id;
    const parsed = parseQuery(query, ListQueryA);
    if (!parsed.ok) return parsed;
    const { limit = 20, starting_after: startingAfter } = parsed.value;
    return { ok: true, value: { endpointId: id.value, limit, startingAfter } };
  },
  async run(services, { scope }, { endpointId, limit, startingAfter }) {
    const webhooks = webhooksOf(services);
    const read = (page: { limit: number; startingAfter?: string }): PromiseLike<Read<WebhookDelivery>> =>
      webhooks
        .deliveries(scope, endpointId, page)
        .then((result) => (result.isOk() ? result.value : { refused: result.error }));
    // `@paylink/webhooks` pages hold at most 100 deliveries.
    const page = await cursorPage(read, (delivery) => delivery.id, limit, startingAfter, 100);
    if ("refused" in page) return refusal(page.refused, NO_ENDPOINT, "id");
    return { list: page.items.map(toWebhookDeliveryA), hasMore: page.hasMore };
  },
};

/** `POST /webhook_endpoints/{id}/deliveries/{deliveryId}/retry`: a dead delivery, pending again. */
export const retryWebhookDelivery: Endpoint<{ endpointId: string; deliveryId: string }> = {
  parse({ body, params }, idPattern) {
    // A retry takes no fields; zod runs only to name the unknown ones.
    if (Object.keys(body).length > 0) {
      const parsed = EmptyBody.safeParse(body);
      if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
    }
    const endpointId = endpointIdOf(params, idPattern);
    if (!endpointId.ok) return endpointId;
    const deliveryId = idOf(params, idPattern, "deliveryId");
    if (!deliveryId.ok) {
      return { ok: false, error: httpError("resource_missing", NO_DELIVERY, { param: "deliveryId" }) };
    }
    return { ok: true, value: { endpointId: endpointId.value, deliveryId: deliveryId.value } };
  },
  run(services, { scope }, { endpointId, deliveryId }) {
    return webhooksOf(services)
      .retry(scope, endpointId, deliveryId)
      .then((result) =>
        result.isOk()
          ? { data: toWebhookDeliveryA(result.value) }
          : refusal(result.error, NO_DELIVERY, "deliveryId"),
      );
  },
};

interface EventsInput {
  readonly limit: number;
  readonly startingAfter: string | undefined;
  readonly paymentId: string | undefined;
}

/** The events of a page, or a store failure as core's `store_unavailable` (its cause is only logged). */
async function readEvents(
  feed: EventFeed,
  scope: Scope,
  page: { limit: number; startingAfter?: string; paymentId?: string },
): Promise<Read<unknown>> {
  try {
    return (await feed.listEvents(scope, page)).map((stored) => stored.event);
  } catch (cause) {
    return { refused: errors.storeUnavailable(cause) };
  }
}

/** `GET /events?limit&starting_after&payment`: the scope's events, oldest first, with `has_more`. */
export const listEvents: Endpoint<EventsInput> = {
  parse({ query }) {
    const parsed = parseQuery(query, EventQueryA);
    if (!parsed.ok) return parsed;
    const { limit = 20, starting_after: startingAfter, payment: paymentId } = parsed.value;
    return { ok: true, value: { limit, startingAfter, paymentId } };
  },
  async run(services, { scope }, { limit, startingAfter, paymentId }) {
    const feed = services.events;
    if (feed === undefined) throw new Error("GET /events served without `events`");
    const read = (page: { limit: number; startingAfter?: string }) =>
      readEvents(feed, scope, paymentId === undefined ? page : { ...page, paymentId });
    // The feed has no page limit of its own: one read of `limit + 1` events tells `has_more`.
    const page = await cursorPage(
      read,
      (event) => (event as { id: string }).id,
      limit,
      startingAfter,
      limit + 1,
    );
    // Each event is the domain event as its webhook body carries it (`JSON.stringify(event)`).
    return "refused" in page ? page : { list: page.items, hasMore: page.hasMore };
  },
};
