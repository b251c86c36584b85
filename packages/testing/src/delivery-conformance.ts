import type { PaymentStore } from "@paylink/core";
import type { DeliveryStore } from "@paylink/core/store";
import type { DeliverySuite } from "./conformance/delivery-kit.js";
import { eventFeedTests } from "./conformance/event-feed.js";
import { sinkTests } from "./conformance/sinks.js";
import { webhookStoreTests } from "./conformance/webhook-store.js";
import type { TestFunction } from "./conformance.js";

/** Options of {@link deliveryStoreConformance}. */
export interface DeliveryConformanceOptions<S extends PaymentStore & DeliveryStore> {
  /** Closes a store after each test. */
  readonly teardown?: (store: S) => Promise<void> | void;
  /** Prefix of every test name. Default: `delivery store conformance`. */
  readonly name?: string;
  /** Number of concurrent callers in the race tests. Default: 16. */
  readonly concurrency?: number;
  /** Per-test timeout in ms. Default: 30 000. */
  readonly timeout?: number;
}

/**
 * The conformance suite of the delivery ports of `@paylink/core/store` (`DeliveryStore`): sink cursors
 * and leases (`RelayStore`), webhook endpoints and deliveries (`WebhookStore`) and the event feed
 * (`EventFeed`), with scoping, copies and races. Run it next to {@link storeConformance}, which covers
 * the payment store. `makeStore` must give every test a fresh, empty store: result sets are compared
 * exactly. See `docs/writing-a-store.md`, "Delivering events".
 *
 * @example
 * import { test } from "vitest";
 * deliveryStoreConformance(test, () => createMemoryStore(), { name: "memory store" });
 */
export function deliveryStoreConformance<S extends PaymentStore & DeliveryStore>(
  test: TestFunction,
  makeStore: () => S | Promise<S>,
  options: DeliveryConformanceOptions<S> = {},
): void {
  const prefix = options.name ?? "delivery store conformance";
  const timeout = options.timeout ?? 30_000;
  const suite: DeliverySuite = {
    it: (name, body) =>
      // Rest parameters keep `fn.length` at 0, so jest does not wait for a `done` callback.
      test(
        `${prefix}: ${name}`,
        async (..._context: unknown[]) => {
          const store = await makeStore();
          try {
            await body(store);
          } finally {
            await options.teardown?.(store);
          }
        },
        timeout,
      ),
    concurrency: options.concurrency ?? 16,
  };
  sinkTests(suite);
  webhookStoreTests(suite);
  eventFeedTests(suite);
}

export { sampleDelivery, sampleEndpoint } from "./conformance/delivery-kit.js";
