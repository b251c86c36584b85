/**
 * `@paylink/relay` — delivers the outbox's events to sinks (webhooks, NATS, a payment provider's stops and
 * refunds …): a cursor and a lease per sink in the store, many relay instances on one database, at least
 * once, in outbox order.
 * @packageDocumentation
 */
export { createExpirySweep, type ExpirySweep, type ExpirySweepOptions, type SweepResult } from "./expiry.js";
export {
  createGatewaySinks,
  type GatewaySinkOutcome,
  type GatewaySinksOptions,
  RetryLaterError,
  refundIdempotencyKey,
} from "./gateway-sinks.js";
export { createLoop, type Loop, type LoopOptions } from "./loop.js";
export type { RelayableStore, RelayStore, SinkPosition } from "./port.js";
export {
  createRelay,
  type Relay,
  type RelayOptions,
  type Sink,
  type SinkLag,
  type SinkRun,
} from "./relay.js";
