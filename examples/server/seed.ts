/**
 * Seeds the demo account with one payment per state, under stable ids, so a newcomer can try every rule
 * at once. Seeding is per id: a payment that exists is left as it is (a restart never undoes what the
 * user did), a missing one is created.
 */
import {
  type Clock,
  createPaymentLinks,
  type Payment,
  type PaymentStore,
  randomIds,
  type Scope,
  systemClock,
} from "@paylink/core";

/** The demo's only account. */
export const DEMO_ACCOUNT = "acct_demo";
/** The demo's test-mode API key (Bearer or `x-api-key`), printed in the banner. */
export const DEMO_KEY = "sk_test_demo";
/** The scope the pages and the seed act in: the demo account, test mode. */
export const DEMO_SCOPE: Scope = { accountId: DEMO_ACCOUNT, livemode: false };

/** The seeded payments: stable id → the state it is created in. */
export const DEMO_PAYMENTS = {
  pay_demo_pending: "pending",
  pay_demo_viewed: "viewed",
  pay_demo_attempted: "attempted",
  pay_demo_processing: "processing",
  pay_demo_paid: "paid",
  pay_demo_canceled: "canceled",
  pay_demo_expired: "expired",
  pay_demo_charge: "charge (pending)",
} as const;
/** The id of a seeded payment. */
export type DemoId = keyof typeof DEMO_PAYMENTS;

const DAY = 86_400_000;

/**
 * Creates the demo payments that are missing. `urlFor` gives each its hosted page; `clock` is the real
 * time (the expired link is created by a clock set two days back, then expired by a read at `clock`).
 * Returns the ids it created.
 */
export async function seedDemo(
  store: PaymentStore,
  options: { urlFor: (payment: Payment) => string; clock?: Clock },
): Promise<DemoId[]> {
  const real = options.clock ?? systemClock;
  let offsetMs = 0;
  const clock: Clock = { now: () => new Date(real.now().getTime() + offsetMs) };
  let nextId = "";
  const links = createPaymentLinks({
    store,
    clock,
    urlFor: options.urlFor,
    ids: { paymentId: () => nextId, eventId: randomIds.eventId },
  });
  const must = async <T>(label: string, result: PromiseLike<{ isErr(): boolean; error?: unknown } & T>) => {
    const outcome = await result;
    if (outcome.isErr()) throw new Error(`seeding ${label} failed: ${JSON.stringify(outcome.error)}`);
    return outcome;
  };
  const create = (id: DemoId, kind: "link" | "charge" = "link", expiresInMs = 30 * DAY) => {
    nextId = id;
    const state = id.replace("pay_demo_", "");
    return must(
      id,
      links.create(DEMO_SCOPE, {
        kind,
        customerId: "cus_demo",
        provider: "stripe",
        amountSubtotal: 1000,
        taxAmount: 200,
        currency: "GBP",
        description: "For cappuccino",
        metadata: {
          dna_invoice_id: `PL-demo-${state}`,
          dna_terminal_id: "4511a14f-61a3-4449-a1c1-7a314ee2374c",
          dna_customer_name: "Yermek",
        },
        ...(kind === "link" ? { expiresAt: new Date(clock.now().getTime() + expiresInMs) } : {}),
      }),
    );
  };

  const created: DemoId[] = [];
  for (const id of Object.keys(DEMO_PAYMENTS) as DemoId[]) {
    if ((await store.get(DEMO_SCOPE, id)) !== undefined) continue;
    switch (id) {
      case "pay_demo_pending":
        await create(id);
        break;
      case "pay_demo_viewed":
        await create(id);
        await must(id, links.view(DEMO_SCOPE, id));
        break;
      case "pay_demo_attempted":
        await create(id);
        await must(id, links.startPayment(DEMO_SCOPE, id));
        await must(id, links.paymentFailed(DEMO_SCOPE, id));
        break;
      case "pay_demo_processing":
        await create(id);
        await must(id, links.startPayment(DEMO_SCOPE, id));
        break;
      case "pay_demo_paid":
        await create(id);
        await must(id, links.startPayment(DEMO_SCOPE, id));
        await must(id, links.paymentSucceeded(DEMO_SCOPE, id));
        break;
      case "pay_demo_canceled":
        await create(id);
        await must(id, links.cancel(DEMO_SCOPE, id));
        break;
      case "pay_demo_expired": {
        // Created two days ago with a one-day expiry; the read at the real time expires it.
        offsetMs = -2 * DAY;
        await create(id, "link", DAY);
        offsetMs = 0;
        await must(id, links.get(DEMO_SCOPE, id));
        break;
      }
      case "pay_demo_charge":
        await create(id, "charge");
        break;
    }
    created.push(id);
  }
  return created;
}
