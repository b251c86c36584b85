import type { PaymentStore, Scope } from "@paylink/core";
import type { DeliveryStore, WebhookDelivery, WebhookEndpoint } from "@paylink/core/store";
import { later, SCOPE, START, unique } from "./kit.js";

/** A store under the delivery suite: the payment store (whose outbox it reads) with every delivery port. */
export type DeliveryTestStore = PaymentStore & DeliveryStore;

/** What the delivery topic files register their tests with; built once per suite. */
export interface DeliverySuite {
  /** A test run on a fresh store from the factory, torn down afterwards. */
  it(name: string, body: (store: DeliveryTestStore) => Promise<void>): void;
  /** Callers in each race. */
  readonly concurrency: number;
}

/** `ms` after the suite's fixed "now", as the ISO-8601 text the ports take. */
export const at = (ms: number) => later(ms).toISOString();
/** The suite's fixed "now", as ISO-8601 text. */
export const T0 = START.toISOString();

/** An enabled endpoint of `scope` (all event types), created at {@link START} unless told otherwise. */
export function sampleEndpoint(
  overrides: Partial<WebhookEndpoint> = {},
  scope: Scope = SCOPE,
): WebhookEndpoint {
  const n = unique();
  return {
    id: `we_conformance_${process.pid}_${n}`,
    accountId: scope.accountId,
    livemode: scope.livemode,
    url: `https://hooks.example/${n}`,
    secret: `whsec_conformance${n}`,
    events: null,
    status: "enabled",
    disabledReason: null,
    failingSince: null,
    createdAt: T0,
    ...overrides,
  };
}

/**
 * A pending delivery of the event at `sequence` to `endpoint`, in the endpoint's scope, due at
 * {@link START} unless told otherwise. Its payload is JSON with spaces and an unsorted key order, which
 * a store must keep byte for byte (it is what gets signed).
 */
export function sampleDelivery(
  endpoint: WebhookEndpoint,
  sequence: number,
  overrides: Partial<WebhookDelivery> = {},
): WebhookDelivery {
  const eventId = overrides.eventId ?? `evt_conformance_${process.pid}_${unique()}`;
  return {
    id: `whd_conformance_${process.pid}_${unique()}`,
    endpointId: endpoint.id,
    accountId: endpoint.accountId,
    livemode: endpoint.livemode,
    eventId,
    eventType: "payment_link.created",
    sequence,
    payload: `{"type": "payment_link.created", "id": "${eventId}", "note": "ü 💳 \\"quoted\\""}`,
    status: "pending",
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: T0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** Inserts `endpoint` and answers it, for chaining. */
export async function withEndpoint(store: DeliveryTestStore, endpoint: WebhookEndpoint) {
  await store.insertEndpoint(endpoint);
  return endpoint;
}

/** The ids of `deliveries`, sorted, for comparing sets whose order the port leaves open. */
export const idSet = (deliveries: readonly { readonly id: string }[]) => deliveries.map((d) => d.id).sort();
