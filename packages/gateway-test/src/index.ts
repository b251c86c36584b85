/**
 * `@paylink/gateway-test` — the built-in test payment provider of Paylink, in process and without
 * network, behind the same `PaymentGateway` port as Stripe and DNA Payments. Start with
 * {@link createTestGateway}.
 * @packageDocumentation
 */
export {
  type CustomerAnswer,
  createTestGateway,
  TEST_CARDS,
  type TestGateway,
  type TestGatewayOptions,
  type TestOutage,
} from "./gateway.js";
export type { ApiAnswer, TestLink, TestLinkStatus, TestRefund } from "./provider.js";
export type { TestWebhook } from "./signing.js";
