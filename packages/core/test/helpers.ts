import {
  type CreateLinkResult,
  createPaymentLinks,
  type Payment,
  type PaymentGateway,
  type PaymentLinksOptions,
  type Scope,
  type StopResult,
} from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";
import { fakeClock, sampleLinkInput } from "@paylink/testing";

/** The scope most tests use. */
export const SCOPE: Scope = { accountId: "acct_1", livemode: false };

/** A fresh memory store, fake clock and commands over them. */
export function setup(options: Partial<PaymentLinksOptions> = {}) {
  const store = createMemoryStore();
  const clock = fakeClock();
  const links = createPaymentLinks({ store, clock, ...options });
  return { store, clock, links };
}

/** A valid link input expiring an hour after `now` (the seed's cappuccino). */
export const linkInput = sampleLinkInput;

/**
 * A gateway (provider `stripe`) that records what it is asked: `createLink` answers `createLink(payment)`,
 * by default a new `fk_<n>` object each call; every stop answers `stopped`; refunds are refused and
 * webhooks rejected (not what these tests are about).
 */
export function recordingGateway(
  createLink?: (payment: Payment) => CreateLinkResult | Promise<CreateLinkResult>,
) {
  let made = 0;
  const createdFor: Payment[] = [];
  const stopped: string[] = [];
  const gateway: PaymentGateway = {
    provider: "stripe",
    createLink: async (payment) => {
      createdFor.push(payment);
      if (createLink !== undefined) return createLink(payment);
      made++;
      return { outcome: "created", reference: `fk_${made}`, url: `https://pay.fake/fk_${made}` };
    },
    stopLink: async (reference): Promise<StopResult> => {
      stopped.push(reference);
      return { outcome: "stopped" };
    },
    refund: async () => ({ outcome: "refused", reason: "not in this test" }),
    parseWebhook: async () => ({ outcome: "rejected", reason: "malformed" }),
  };
  return { gateway, createdFor, stopped };
}
