import { randomBytes } from "node:crypto";
import { type Clock, DOMAIN_EVENT_NAMES, errors, type PaylinkError, type Scope } from "@paylink/core";
import { err, ok, type Result, ResultAsync } from "neverthrow";
import { type AllowedAddresses, addressKind, isAllowedAddress, resolve } from "./address.js";
import type { WebhookDelivery, WebhookEndpoint, WebhookStore } from "./port.js";

/** Every event type an endpoint may ask for. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = ["payment_link", "charge"].flatMap((prefix) =>
  DOMAIN_EVENT_NAMES.map((name) => `${prefix}.${name}`),
);

/** Options of {@link createWebhookEndpoints}. */
export interface WebhookEndpointsOptions {
  readonly store: WebhookStore;
  /** Addresses beyond the public internet that endpoint URLs may resolve to. Default: none. */
  readonly allow?: AllowedAddresses;
  readonly clock?: Clock;
  /** Resolves a hostname to its addresses. Default: the system resolver. */
  readonly resolveHost?: (hostname: string) => Promise<string[]>;
}

/** A page of deliveries. */
export interface DeliveryPage {
  readonly limit: number;
  readonly startingAfter?: string;
}

/** What merchants do with their endpoints; every method answers a `ResultAsync` and never throws. */
export interface WebhookEndpoints {
  /** Registers `url` (http or https, resolving to allowed addresses only) with a new `whsec_` secret. */
  create(
    scope: Scope,
    input: { readonly url: unknown; readonly events?: unknown },
  ): ResultAsync<WebhookEndpoint, PaylinkError>;
  list(scope: Scope): ResultAsync<WebhookEndpoint[], PaylinkError>;
  get(scope: Scope, id: string): ResultAsync<WebhookEndpoint, PaylinkError>;
  /** Deletes the endpoint and its deliveries; answers what was deleted. */
  delete(scope: Scope, id: string): ResultAsync<WebhookEndpoint, PaylinkError>;
  /** The endpoint's deliveries, newest first (1–100 a page). */
  deliveries(
    scope: Scope,
    endpointId: string,
    page: DeliveryPage,
  ): ResultAsync<WebhookDelivery[], PaylinkError>;
  /** Sends a dead delivery again (due at once, on the schedule from where it stopped). */
  retry(scope: Scope, endpointId: string, deliveryId: string): ResultAsync<WebhookDelivery, PaylinkError>;
}

const MAX_URL_LENGTH = 2048;
const issue = (path: string, message: string) => err(errors.invalidRequest([{ path, message }]));

function parseUrl(value: unknown): Result<URL, PaylinkError> {
  if (typeof value !== "string" || value.length === 0) return issue("url", "must be an http or https URL");
  if (value.length > MAX_URL_LENGTH) return issue("url", `must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return issue("url", "must be an absolute http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return issue("url", "must use http or https");
  if (url.username !== "" || url.password !== "") return issue("url", "must not carry credentials");
  if (url.hostname === "") return issue("url", "must name a host");
  return ok(url);
}

function parseEvents(value: unknown): Result<readonly string[] | null, PaylinkError> {
  if (value === undefined || value === null) return ok(null);
  if (!Array.isArray(value) || value.length === 0 || value.length > WEBHOOK_EVENT_TYPES.length) {
    return issue("events", "must be a non-empty list of event types, or left out for all");
  }
  const seen = new Set<string>();
  for (const [index, type] of value.entries()) {
    if (typeof type !== "string" || !WEBHOOK_EVENT_TYPES.includes(type)) {
      return issue(`events.${index}`, `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`);
    }
    if (seen.has(type)) return issue(`events.${index}`, "is listed twice");
    seen.add(type);
  }
  return ok([...seen]);
}

const wrap = <T>(work: () => Promise<Result<T, PaylinkError>>): ResultAsync<T, PaylinkError> =>
  new ResultAsync(
    Promise.resolve()
      .then(work)
      .catch((cause: unknown) => err(errors.storeUnavailable(cause))),
  );

/**
 * Creates the endpoint commands over a {@link WebhookStore}.
 *
 * @example
 * const endpoints = createWebhookEndpoints({ store, allow: { loopback: true } });
 * const endpoint = await endpoints.create(scope, { url: "http://127.0.0.1:4000/hooks" });
 */
export function createWebhookEndpoints(options: WebhookEndpointsOptions): WebhookEndpoints {
  const { store } = options;
  const allow = options.allow ?? {};
  const clock = options.clock ?? { now: () => new Date() };
  const lookUp = options.resolveHost ?? resolve;

  const found = async (scope: Scope, id: string): Promise<Result<WebhookEndpoint, PaylinkError>> => {
    const endpoint = typeof id === "string" ? await store.getEndpoint(scope, id) : undefined;
    return endpoint === undefined ? err(errors.notFound(String(id))) : ok(endpoint);
  };

  return {
    create: (scope, input) =>
      wrap(async () => {
        const url = parseUrl(input?.url);
        if (url.isErr()) return err(url.error);
        const events = parseEvents(input?.events);
        if (events.isErr()) return err(events.error);
        let addresses: string[];
        try {
          addresses = await lookUp(url.value.hostname);
        } catch {
          return issue("url", "its host does not resolve");
        }
        const refused = addresses.find((address) => !isAllowedAddress(address, allow));
        if (refused !== undefined || addresses.length === 0) {
          return issue(
            "url",
            `must resolve to public addresses only (it resolves to a ${refused === undefined ? "no" : addressKind(refused)} address)`,
          );
        }
        const endpoint: WebhookEndpoint = {
          id: `we_${randomBytes(12).toString("base64url")}`,
          accountId: scope.accountId,
          livemode: scope.livemode,
          url: url.value.href,
          secret: `whsec_${randomBytes(24).toString("base64")}`,
          events: events.value,
          status: "enabled",
          disabledReason: null,
          failingSince: null,
          createdAt: clock.now().toISOString(),
        };
        await store.insertEndpoint(endpoint);
        return ok(endpoint);
      }),
    list: (scope) => wrap(async () => ok(await store.listEndpoints(scope))),
    get: (scope, id) => wrap(() => found(scope, id)),
    delete: (scope, id) =>
      wrap(async () => {
        const endpoint = await found(scope, id);
        if (endpoint.isErr()) return endpoint;
        return (await store.deleteEndpoint(scope, id)) ? endpoint : err(errors.notFound(id));
      }),
    deliveries: (scope, endpointId, { limit, startingAfter }) =>
      wrap(async () => {
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
          return issue("limit", "must be an integer from 1 to 100");
        }
        const endpoint = await found(scope, endpointId);
        if (endpoint.isErr()) return err(endpoint.error);
        const page = startingAfter === undefined ? { limit } : { limit, startingAfter };
        return ok(await store.listDeliveries(scope, endpointId, page));
      }),
    retry: (scope, endpointId, deliveryId) =>
      wrap(async () => {
        const delivery = await store.getDelivery(scope, deliveryId);
        if (delivery === undefined || delivery.endpointId !== endpointId)
          return err(errors.notFound(deliveryId));
        const revived = await store.reviveDelivery(scope, deliveryId, clock.now().toISOString());
        if (revived === undefined)
          return issue("deliveryId", `only a dead delivery can be retried (it is ${delivery.status})`);
        return ok(revived);
      }),
  };
}
