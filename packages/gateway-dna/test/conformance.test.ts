import { gatewayConformance } from "@paylink/testing";
import { test } from "vitest";
import { makeDnaHarness } from "./harness.js";

// What DNA's documented API cannot do is declared, and the suite skips those laws visibly with the
// reason; the behaviour DNA does have is tested in this folder's own files.
gatewayConformance(test, () => makeDnaHarness({ timeoutMs: 500 }), {
  name: "dna",
  callTimeoutMs: 500,
  unsupported: {
    staleWebhooks: "DNA signs no timestamp (id, amount, currency, invoiceId, errorCode, success)",
    rawBodySignatures: "DNA signs fields, not bytes (altered signed fields: callbacks.test.ts)",
    refunds: "refunds are refused by design (REFUND_REFUSAL): DNA's refund API has no idempotency key",
  },
});
