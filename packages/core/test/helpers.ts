import { createPaymentLinks, type PaymentLinksOptions, type Scope } from "@paylink/core";
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
