/**
 * `@paylink/gateway-stripe` — Paylink's payment-provider port on Stripe: each link is a Stripe Payment
 * Link that one Checkout Session can complete, stopped on cancel (deactivated, its open sessions
 * expired), refunds with idempotency keys, and webhooks verified with the SDK's `constructEvent`.
 * @packageDocumentation
 */
export { createStripeGateway, type StripeGatewayOptions } from "./gateway.js";
export { SIGNATURE_HEADER, WEBHOOK_TOLERANCE_SECONDS } from "./webhooks.js";
