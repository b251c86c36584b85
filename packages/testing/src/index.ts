/**
 * `@paylink/testing` — fast-check arbitraries for payments and commands, a model of the lifecycle, and
 * the conformance suites (the payment store, the delivery ports, and payment gateways).
 * @packageDocumentation
 */
export {
  COMMAND_NAMES,
  type CommandName,
  createInputArb,
  type FakeClock,
  FREE_TEXT_FIELDS,
  type FreeTextField,
  fakeClock,
  malformedTextArb,
  malformedTextInputArb,
  metadataArb,
  type Step,
  sampleLinkInput,
  scopeArb,
  stepsArb,
  wellFormedTextArb,
} from "./arbitraries.js";
export {
  type ConformanceOptions,
  type StoreProbe,
  samplePayment,
  storeConformance,
  type TestFunction,
} from "./conformance.js";
export {
  type DeliveryConformanceOptions,
  deliveryStoreConformance,
  sampleDelivery,
  sampleEndpoint,
} from "./delivery-conformance.js";
export {
  type ForgeryKind,
  type GatewayCapabilities,
  type GatewayConformanceOptions,
  type GatewayHarness,
  gatewayConformance,
  type OutageKind,
  type ProviderWebhook,
} from "./gateway-conformance.js";
export { type ModelAnswer, type ModelPayment, modelStep } from "./model.js";
export { type ReachedPayment, type ReachWorld, reach, reachPayment, send } from "./reach.js";
