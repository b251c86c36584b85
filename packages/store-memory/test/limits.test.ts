import { createPaymentLinks, type PaymentStore } from "@paylink/core";
import { sampleLinkInput } from "@paylink/testing";
import { expect, test } from "vitest";
import { createMemoryStore } from "../src/index.js";

// The meaning `rowLimit` (in `@paylink/core/store`) gives every `limit` of the port, as counts of three.
const LIMITS: readonly (readonly [number, number])[] = [
  [Number.NaN, 0],
  [-1, 0],
  [0, 0],
  [0.5, 0],
  [1.9, 1],
  [2, 2],
  [Number.POSITIVE_INFINITY, 3],
];

/** Asserts `store` reads every `limit` of findDue, readEvents and list as `rowLimit` does. */
async function expectRowLimits(store: PaymentStore): Promise<void> {
  const scope = { accountId: "acct_limits", livemode: false };
  const links = createPaymentLinks({ store });
  for (let i = 0; i < 3; i++) (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap();
  const later = new Date(Date.now() + 10 * 86_400_000).toISOString();
  for (const [limit, count] of LIMITS) {
    expect((await store.findDue(later, limit)).length, `findDue, limit ${limit}`).toBe(count);
    expect((await store.readEvents(0, limit)).length, `readEvents, limit ${limit}`).toBe(count);
    expect((await store.list(scope, { limit })).length, `list, limit ${limit}`).toBe(count);
  }
}

test("every limit means what rowLimit says: none for NaN and below 1, fractions truncated, all for Infinity", async () => {
  await expectRowLimits(createMemoryStore());
});
