/**
 * `@paylink/gateway-dna` — the DNA Payments gateway of Paylink: payment links over plain `fetch` with
 * OAuth client credentials, cancellation, and callbacks verified by HMAC as DNA's own
 * SDKs verify them.
 * @packageDocumentation
 */
export { type DnaCallback, dnaCallbackSignature, parseDnaCallback } from "./callback.js";
export {
  createDnaGateway,
  type DnaGateway,
  type DnaLinkStatus,
  type DnaPaymentLink,
  PAY_BY_LINK_SCOPE,
  REFUND_REFUSAL,
} from "./gateway.js";
export { DNA_HOSTS, type DnaGatewayOptions } from "./options.js";
