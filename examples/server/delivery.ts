/**
 * Event delivery in the demo: the relay runs in the server's process, handing the outbox to the webhook
 * sink (always) and to NATS JetStream (with `PAYLINK_NATS_URL`); the dispatcher posts the webhook
 * deliveries. Every part keeps its state in the demo's store, so several demo servers on one PostgreSQL
 * database share the work through the store's leases.
 */

import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { PaymentStore } from "@paylink/core";
import type { DeliveryStore } from "@paylink/core/store";
import { createRelay, type Relay, type Sink } from "@paylink/relay";
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
}

/** The demo's running delivery: relay, dispatcher and the merchant-facing endpoint commands. */
export interface Delivery {
  readonly relay: Relay;
  readonly dispatcher: WebhookDispatcher;
  readonly endpoints: WebhookEndpoints;
  /** The sinks' names (`webhooks`, and `nats` when on). */
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
  const relay = createRelay({
    store,
    sinks,
    pollMs,
    onError: options.onError ?? ((error, sink) => console.error(`[relay] ${sink}:`, error)),
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
