/**
 * Event delivery in the demo: the relay runs in the server's process, handing the outbox to the webhook
 * sink (always), to NATS JetStream (with `PAYLINK_NATS_URL`) and to the payment provider's sinks (with a
 * gateway: stop the provider's object of every canceled or expired link, refund every late payment); the
 * dispatcher posts the webhook deliveries. Every part keeps its state in the demo's store, so several demo
 * servers on one PostgreSQL database share the work through the store's leases.
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Clock, createPaymentLinks, type PaymentGateway, type PaymentStore } from "@paylink/core";
import type { DeliveryStore } from "@paylink/core/store";
import {
  createGatewaySinks,
  createRelay,
  type GatewaySinkOutcome,
  type Relay,
  type Sink,
} from "@paylink/relay";
import { createNatsSink } from "@paylink/relay-nats";
import {
  createWebhookDispatcher,
  createWebhookEndpoints,
  createWebhookSink,
  type WebhookDispatcher,
  type WebhookEndpoints,
} from "@paylink/webhooks";

/** The variable naming the NATS server that turns the NATS sink on (e.g. `nats://127.0.0.1:4222`). */
export const NATS_URL_ENV = "PAYLINK_NATS_URL";
/** The variable replacing the webhook retry schedule: comma-separated pauses in ms (`200,400,800`). */
export const WEBHOOK_RETRIES_ENV = "PAYLINK_WEBHOOK_RETRIES_MS";

/**
 * Reads {@link WEBHOOK_RETRIES_ENV}: `undefined` (the specification's schedule) when unset or empty.
 * @throws {Error} with a message for the console when it is not a list of whole milliseconds.
 */
export function parseRetrySchedule(text: string | undefined): readonly number[] | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const steps = text.split(",").map((part) => part.trim());
  if (steps.length > 50 || steps.some((step) => !/^\d{1,9}$/.test(step)))
    throw new Error(
      `${WEBHOOK_RETRIES_ENV} must be up to 50 comma-separated whole milliseconds (e.g. 200,400,800), not "${text}".`,
    );
  return steps.map(Number);
}

/** Options of {@link startDelivery}. */
export interface DeliveryOptions {
  /** NATS server URL; the NATS sink is on only with it. */
  readonly natsUrl?: string;
  /** Pauses between webhook attempts. Default: the Standard Webhooks schedule. */
  readonly retryScheduleMs?: readonly number[];
  /** How often relay and dispatcher look for other processes' work. Default 1 000 ms. */
  readonly pollMs?: number;
  /** Where failures of a sink go. Default: `console.error`. */
  readonly onError?: (error: unknown, sink: string) => void;
  /**
   * The payment provider links are hosted at: its stop and refund sinks (`createGatewaySinks`) run beside
   * the others. The same gateway must be given to the `createPaymentLinks` that makes the links.
   */
  readonly gateway?: PaymentGateway;
  /** The clock of the commands the provider's sinks record answers with. Default: the system clock. */
  readonly clock?: Clock;
  /** Hears what the provider's sinks did for each event (a log line, say). */
  readonly onProviderOutcome?: (outcome: GatewaySinkOutcome) => void;
  /**
   * Backoff of a failing sink (a provider in an outage): the first pause, doubled up to the cap. Default
   * 1 000 → 10 000 ms, so a provider that comes back is seen within seconds on the merchant page.
   */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
}

/** The demo's relay backoff: a restored provider is retried within 10 s (the relay's own cap is 60 s). */
export const DEMO_RELAY_BACKOFF = { firstMs: 1_000, maxMs: 10_000 } as const;

/**
 * A sink's failure for the console: a provider asking to retry later is one line (it is expected during
 * an outage, and retried with backoff), anything else with its stack.
 */
function describe(error: unknown): unknown {
  return error instanceof Error && error.name === "RetryLaterError" ? error.message : error;
}

/** The demo's running delivery: relay, dispatcher and the merchant-facing endpoint commands. */
export interface Delivery {
  readonly relay: Relay;
  readonly dispatcher: WebhookDispatcher;
  readonly endpoints: WebhookEndpoints;
  /** The sinks' names (`webhooks`, `nats` when on, then `gateway-stop:<provider>` and `gateway-refund:…`). */
  readonly sinks: readonly string[];
  /** Stops relay and dispatcher (each finishes what is in flight), then closes the NATS connection. */
  stop(): Promise<void>;
}

/**
 * Starts delivery over `store`: the caller passes `relay.notifying(store)` to `createPaymentLinks` so
 * that events leave right after their commit. The demo lets endpoints reach loopback addresses (its own
 * receiver page is one); nothing else beyond the public internet.
 */
export async function startDelivery(
  store: PaymentStore & DeliveryStore,
  options: DeliveryOptions = {},
): Promise<Delivery> {
  const allow = { loopback: true };
  const pollMs = options.pollMs ?? 1_000;
  const dispatcher = createWebhookDispatcher({
    store,
    allow,
    pollMs,
    ...(options.retryScheduleMs ? { retryScheduleMs: options.retryScheduleMs } : {}),
  });
  const sinks: Sink[] = [createWebhookSink({ store, onQueued: () => dispatcher.wake() })];
  let nats: NatsConnection | undefined;
  if (options.natsUrl !== undefined) {
    nats = await connect({ servers: options.natsUrl, name: "paylink-demo" });
    try {
      sinks.push(await createNatsSink({ connection: nats }));
    } catch (error) {
      await nats.close();
      throw error;
    }
  }
  // The provider's sinks record the provider's answers through commands over the plain store (the relay
  // does not exist yet to wrap it), so each answer they record wakes the relay by hand: the events those
  // records write (`provider_stopped`, `refunded` …) then leave at once, not at the next poll. Only the
  // relay calls the sinks, so `relay` is always made by the time `onOutcome` runs.
  const gateway = options.gateway;
  if (gateway !== undefined) {
    const links = createPaymentLinks({
      store,
      gateway,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    sinks.push(
      ...createGatewaySinks({
        links,
        gateway,
        onOutcome: (outcome) => {
          options.onProviderOutcome?.(outcome);
          relay.wake();
        },
      }),
    );
  }
  const relay = createRelay({
    store,
    sinks,
    pollMs,
    backoff: options.backoff ?? DEMO_RELAY_BACKOFF,
    onError: options.onError ?? ((error, sink) => console.error(`[relay] ${sink}:`, describe(error))),
  });
  relay.start();
  dispatcher.start();
  let stopping: Promise<void> | undefined;
  return {
    relay,
    dispatcher,
    endpoints: createWebhookEndpoints({ store, allow }),
    sinks: sinks.map((sink) => sink.name),
    stop() {
      stopping ??= (async () => {
        await Promise.all([relay.stop(), dispatcher.stop()]);
        await nats?.drain();
      })();
      return stopping;
    },
  };
}
