import type { GatewayHarness } from "@paylink/testing";
import { type CustomerAnswer, createTestGateway, type TestGatewayOptions } from "../src/index.js";

/** The gateway's timeout in the conformance runs: short, so a hang costs little. */
export const CALL_TIMEOUT_MS = 300;

/** The webhook of a customer's answer; a payment the provider refused is a rejection, as the harness says. */
function webhookOf(answer: CustomerAnswer, expected: "paid" | "declined") {
  if (answer.outcome !== expected) throw new Error(`the test provider answered ${JSON.stringify(answer)}`);
  return (answer as Extract<CustomerAnswer, { webhook: unknown }>).webhook;
}

/** A conformance harness over a fresh test gateway (`options` go to `createTestGateway`). */
export function testGatewayHarness(options: TestGatewayOptions = {}): GatewayHarness {
  const gateway = createTestGateway({ timeoutMs: CALL_TIMEOUT_MS, ...options });
  return {
    gateway,
    pay: async (reference) => webhookOf(await gateway.pay(reference), "paid"),
    fail: async (reference) => webhookOf(await gateway.fail(reference), "declined"),
    forged: async (reference, kind) => gateway.forged(reference, kind),
    outage: (kind) => gateway.outage(kind),
    restore: () => gateway.restore(),
    close: async () => {},
  };
}
