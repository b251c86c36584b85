import type {
  DomainEvent,
  PaylinkError,
  PaymentGateway,
  PaymentLinks,
  Scope,
  StoredEvent,
} from "@paylink/core";
import type { Sink } from "./relay.js";

/**
 * A sink's way of saying "the provider could not answer now, hand me this batch again later": the relay
 * backs the sink off, and waits at least `retryAfterMs` when it is given (a provider's `Retry-After`).
 * Any sink may throw it; the relay reads `retryAfterMs` off any error that carries a finite one.
 */
export class RetryLaterError extends Error {
  /** How long the provider asked to wait, in milliseconds, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(detail: string, retryAfterMs?: number) {
    super(`provider asked to retry later: ${detail}`);
    this.name = "RetryLaterError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Options of {@link createGatewaySinks}. */
export interface GatewaySinksOptions {
  /** The commands the sinks record the provider's answers with (over the store the relay reads). */
  readonly links: PaymentLinks;
  /** The provider whose links are stopped and whose late payments are refunded. */
  readonly gateway: PaymentGateway;
  /**
   * Refund every late payment (a payment on a canceled or expired link) of this provider at once. Default
   * `true`. With `false` only the stop sink is answered, and late payments stay for the merchant to handle.
   */
  readonly autoRefundLatePayments?: boolean;
  /** Called with what each sink did for each event it acted on (for logs and tests). */
  readonly onOutcome?: (outcome: GatewaySinkOutcome) => void;
}

/** What a gateway sink did for one event, as {@link GatewaySinksOptions.onOutcome} hears it. */
export type GatewaySinkOutcome =
  | {
      readonly sink: "stop";
      readonly paymentId: string;
      /** The provider's object. */
      readonly reference: string;
      /**
       * The provider's answer (`stopped`, `already_stopped`, `already_paid`, `refused`, `retry_later`),
       * `already_recorded` when the stop was confirmed or refused before (a redelivered event), or `error`
       * when Paylink refused to record it for good (`error` says why; the sink goes on).
       */
      readonly outcome:
        | "stopped"
        | "already_stopped"
        | "already_paid"
        | "refused"
        | "retry_later"
        | "already_recorded"
        | "error";
      /** The provider's reason of a refusal or a retry, for logs. */
      readonly detail?: string;
      /** The provider payment found by an `already_paid` stop. */
      readonly paymentReference?: string;
      readonly error?: PaylinkError;
    }
  | {
      readonly sink: "refund";
      readonly paymentId: string;
      /** The provider payment refunded. */
      readonly paymentReference: string;
      /**
       * The provider's answer (`succeeded`, `pending`, `refused`, `retry_later`), `already_recorded` when
       * its refund is already succeeded or refused, or `error` (as for the stop).
       */
      readonly outcome: "succeeded" | "pending" | "refused" | "retry_later" | "already_recorded" | "error";
      readonly detail?: string;
      readonly error?: PaylinkError;
    };

/** The errors of a command that may go away by themselves: the batch comes again. */
const TRANSIENT: ReadonlySet<string> = new Set(["store_unavailable", "conflict"]);

/** The idempotency key of the refund of provider payment `paymentReference`: from that payment only. */
export function refundIdempotencyKey(provider: string, paymentReference: string): string {
  return `paylink_refund_${provider}_${paymentReference}`;
}

const STOP_EVENTS: ReadonlySet<string> = new Set(["payment_link.canceled", "payment_link.expired"]);
const LATE_PAYMENT_EVENTS: ReadonlySet<string> = new Set([
  "payment_link.late_payment",
  "charge.late_payment",
]);

const scopeOf = (event: DomainEvent): Scope => ({ accountId: event.accountId, livemode: event.livemode });

/**
 * Creates the sinks that carry a provider's outside commands out of the outbox: `gateway-stop:<provider>`
 * stops the provider's object of every canceled or expired link and records the answer, and
 * `gateway-refund:<provider>` refunds every late payment once (without `autoRefundLatePayments`, only the
 * stop sink). Each is its own sink, with its own cursor and backoff, so a refund outage never holds up a
 * stop. Pass them to {@link createRelay} beside the others.
 *
 * Both are safe to hand an event again (the relay is at least once): the payment is read again first, a
 * stop is safe to repeat at the provider, and a refund's idempotency key derives from the provider payment
 * alone, so a batch handed twice, a duplicate late payment or a crash between the call and its record
 * never refunds twice. A provider's `retry_later` (and a store failure) rejects the batch, which comes
 * again with backoff, after the provider's `retryAfterMs` at least. A refusal is recorded and the sink
 * goes on. A `pending` refund is recorded as such and not followed up (the provider's refund webhook is
 * future work).
 *
 * @example
 * const gateway = createTestGateway();
 * const links = createPaymentLinks({ store, gateway });
 * const relay = createRelay({ store, sinks: createGatewaySinks({ links, gateway }) });
 * relay.start();
 */
export function createGatewaySinks(options: GatewaySinksOptions): Sink[] {
  const { links, gateway } = options;
  const provider = gateway.provider;
  const report = options.onOutcome ?? (() => undefined);

  /**
   * A command's error: one that may go away by itself (`store_unavailable`, `conflict`) rejects the batch,
   * which comes again; any other is for good, so it is reported and the sink goes on to the next event.
   */
  function settle(error: PaylinkError, reported: (error: PaylinkError) => void): void {
    if (TRANSIENT.has(error.code)) {
      throw new Error(`[paylink/relay] ${provider}: ${error.code}: ${error.message}`, { cause: error });
    }
    reported(error);
  }

  /** The stop of one canceled or expired link of this provider. */
  async function stop(event: DomainEvent, reference: string): Promise<void> {
    const scope = scopeOf(event);
    const id = event.paymentId;
    const failed = (error: PaylinkError) =>
      report({ sink: "stop", paymentId: id, reference, outcome: "error", error });
    // Read again: a batch handed again after a restart finds the stop recorded already.
    const current = await links.get(scope, id);
    if (current.isErr()) return settle(current.error, failed);
    const recorded = current.value.providerState?.stop;
    if (recorded === "confirmed" || recorded === "refused") {
      report({ sink: "stop", paymentId: id, reference, outcome: "already_recorded" });
      return;
    }
    const answer = await gateway.stopLink(reference);
    if (answer.outcome === "retry_later") {
      report({ sink: "stop", paymentId: id, reference, outcome: "retry_later", detail: answer.detail });
      throw new RetryLaterError(answer.detail, answer.retryAfterMs);
    }
    if (answer.outcome === "refused") {
      // Recorded for someone to look at; it must not hold up every later stop.
      const recorded = await links.recordProviderStop(scope, id, {
        outcome: "refused",
        detail: answer.reason,
      });
      if (recorded.isErr()) return settle(recorded.error, failed);
      report({ sink: "stop", paymentId: id, reference, outcome: "refused", detail: answer.reason });
      return;
    }
    if (answer.outcome === "already_paid") {
      // The customer paid before the stop: the machine makes it a late payment of the canceled or expired
      // link. It is reported as the provider payment its webhook names too, so it is one payment, not two.
      const providerPayment = { reference: answer.paymentReference };
      const paid = await links.paymentSucceeded(scope, id, { providerPayment });
      if (paid.isErr()) return settle(paid.error, failed);
    }
    // Stopped, or paid: either way the object can take no more money.
    const confirmed = await links.recordProviderStop(scope, id, { outcome: "confirmed" });
    if (confirmed.isErr()) return settle(confirmed.error, failed);
    report({
      sink: "stop",
      paymentId: id,
      reference,
      outcome: answer.outcome,
      ...(answer.outcome === "already_paid" ? { paymentReference: answer.paymentReference } : {}),
    });
  }

  /** The refund of one late payment of this provider. */
  async function refund(event: DomainEvent, paymentReference: string): Promise<void> {
    const scope = scopeOf(event);
    const id = event.paymentId;
    const failed = (error: PaylinkError) =>
      report({ sink: "refund", paymentId: id, paymentReference, outcome: "error", error });
    const current = await links.get(scope, id);
    if (current.isErr()) return settle(current.error, failed);
    const payment = current.value;
    const state = payment.providerState;
    if (
      state?.paymentReference === paymentReference &&
      (state.refund === "succeeded" || state.refund === "refused")
    ) {
      report({ sink: "refund", paymentId: id, paymentReference, outcome: "already_recorded" });
      return;
    }
    const answer = await gateway.refund({
      paymentReference,
      amount: payment.amountTotal,
      currency: payment.currency,
      // From the provider payment only: whatever hands this payment again, the provider refunds it once.
      idempotencyKey: refundIdempotencyKey(provider, paymentReference),
      paylinkId: payment.id,
    });
    if (answer.outcome === "retry_later") {
      report({
        sink: "refund",
        paymentId: id,
        paymentReference,
        outcome: "retry_later",
        detail: answer.detail,
      });
      throw new RetryLaterError(answer.detail, answer.retryAfterMs);
    }
    const record =
      answer.outcome === "refused"
        ? ({ outcome: "refused", paymentReference, detail: answer.reason } as const)
        : ({ outcome: answer.outcome, paymentReference, reference: answer.reference } as const);
    const recorded = await links.recordRefund(scope, id, record);
    if (recorded.isErr()) return settle(recorded.error, failed);
    report({
      sink: "refund",
      paymentId: id,
      paymentReference,
      outcome: answer.outcome,
      ...(answer.outcome === "refused" ? { detail: answer.reason } : {}),
    });
  }

  const stopSink: Sink = {
    name: `gateway-stop:${provider}`,
    async deliver(events: readonly StoredEvent[]) {
      for (const { event } of events) {
        if (!STOP_EVENTS.has(event.type) || event.payment.provider !== provider) continue;
        const state = event.payment.providerState;
        if (state === undefined || state.reference === null || state.stop !== "pending") continue;
        await stop(event, state.reference);
      }
    },
  };
  if (options.autoRefundLatePayments === false) return [stopSink];

  const refundSink: Sink = {
    name: `gateway-refund:${provider}`,
    async deliver(events: readonly StoredEvent[]) {
      for (const { event } of events) {
        if (!LATE_PAYMENT_EVENTS.has(event.type) || event.payment.provider !== provider) continue;
        const paymentReference = event.payment.providerState?.paymentReference;
        if (paymentReference == null) continue;
        await refund(event, paymentReference);
      }
    },
  };
  return [stopSink, refundSink];
}
