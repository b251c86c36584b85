import type { Payment } from "@paylink/core";

let counter = 0;
/** A Paylink link as core hands it to `createLink`. */
export function aLink(overrides: Partial<Payment> = {}): Payment {
  const now = new Date().toISOString();
  return {
    id: `pay_dna_${++counter}_${Date.now()}`,
    customerId: "cus_1",
    kind: "link",
    status: "pending",
    provider: "dna",
    amountSubtotal: 1999,
    taxAmount: 0,
    amountTotal: 1999,
    currency: "GBP",
    description: "For cappuccino",
    metadata: {},
    url: "",
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    createdAt: now,
    updatedAt: now,
    object: "payment",
    livemode: false,
    viewedAt: null,
    attemptedAt: null,
    paidAt: null,
    canceledAt: null,
    expiredAt: null,
    ...overrides,
  };
}
