import type { PaymentGateway } from "@paylink/core";
import type { ForgeryKind, GatewayHarness, OutageKind } from "@paylink/testing";
import { createStripeGateway, type StripeGatewayOptions } from "../src/index.js";
import { type FakeStripe, startFakeStripe } from "./fake-stripe.js";
import { sessionFor } from "./fake-stripe-objects.js";

/** The webhook signing secret the fake signs with and the gateway verifies against. */
export const WEBHOOK_SECRET = "whsec_paylink_fake_secret";
/** The gateway's time budget in the tests: short, so that a hang is seen quickly. */
export const CALL_TIMEOUT_MS = 500;

/** A {@link GatewayHarness} on the fake Stripe, with the fake itself for tests that look inside. */
export interface StripeHarness extends GatewayHarness {
  readonly fake: FakeStripe;
  readonly gateway: PaymentGateway;
}

/**
 * The Stripe gateway on the REAL `stripe` SDK, pointed at a fresh fake Stripe on a free local port.
 * `pay` is a card payment; `fail` is a delayed method (a bank debit) that fails, the one failure Stripe
 * reports by webhook (a declined card leaves the session open and sends none).
 */
export async function stripeHarness(options: Partial<StripeGatewayOptions> = {}): Promise<StripeHarness> {
  const fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  const gateway = createStripeGateway({
    stripe: fake.client(),
    webhookSecret: WEBHOOK_SECRET,
    timeoutMs: CALL_TIMEOUT_MS,
    ...options,
  });
  return {
    fake,
    gateway,
    pay: async (reference) => fake.pay(reference),
    fail: async (reference) => {
      const completed = fake.payDelayed(reference);
      const session = (JSON.parse(completed.rawBody) as { data: { object: { id: string } } }).data.object;
      return fake.settle(session.id, false);
    },
    forged: async (reference, kind: ForgeryKind) => {
      const link = fake.links.get(reference);
      if (!link) throw new Error(`no payment link ${reference}`);
      // A payment that never happened, reported as a success: accepting it would do harm.
      const session = {
        ...sessionFor(link),
        status: "complete",
        payment_status: "paid",
        payment_intent: "pi_forged",
      };
      const options =
        kind === "bad_signature"
          ? { secret: "whsec_someone_else" }
          : kind === "stale"
            ? { timestamp: Math.floor(Date.now() / 1000) - 600 }
            : {};
      const webhook = fake.webhook("checkout.session.completed", session, options);
      if (kind === "missing_signature") delete webhook.headers["stripe-signature"];
      return webhook;
    },
    outage: (kind: OutageKind) => fake.outage(kind),
    restore: () => fake.restore(),
    close: () => fake.close(),
  };
}
