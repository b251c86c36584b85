/**
 * The public shape of Paylink's commands: what {@link createPaymentLinks} takes and answers. The
 * implementation is in `links.ts`.
 */
import type { ResultAsync } from "neverthrow";
import type { PaylinkError } from "./errors.js";
import type { PaymentGateway } from "./gateway.js";
import type { Clock, IdGenerator } from "./ids.js";
// For TSDoc links only.
import type { createPaymentLinks } from "./links.js";
import type { CreatePaymentInput, Payment, Scope } from "./schemas.js";
import type { PaymentStore, StoredEvent } from "./store.js";

/** Options of {@link createPaymentLinks}. */
export interface PaymentLinksOptions {
  /** Where payments and their events are kept. */
  readonly store: PaymentStore;
  /** Time source. Default: {@link systemClock}. */
  readonly clock?: Clock;
  /** Id source. Default: {@link randomIds}. */
  readonly ids?: IdGenerator;
  /** The hosted page of a payment (its `url` field). Default: `/pay/{id}`. */
  readonly urlFor?: (payment: Payment) => string;
  /** How many times a command re-reads and re-decides after losing a compare-and-swap. Default: 8. */
  readonly maxRetries?: number;
  /**
   * The payment provider that hosts links. With one, `create` makes the provider's object first (its
   * reference goes to `providerState`, its URL to `url`), and a cancel or expiry of such a link marks its
   * stop `pending` in the same write, for `createGatewaySinks` of `@paylink/relay` to carry out. Without
   * one, Paylink behaves as it did before gateways: payments have no `providerState`. See
   * `docs/providers.md`.
   */
  readonly gateway?: PaymentGateway;
}

/** A payment the provider reported (its payment id, and what it took when it says). */
export interface ProviderPayment {
  /** The provider's payment id (Stripe: the PaymentIntent); a refund's idempotency key derives from it. */
  readonly reference: string;
}

/** The provider's answer to a stop, as {@link PaymentLinks.recordProviderStop} records it. */
export type ProviderStopRecord =
  | { readonly outcome: "confirmed" }
  | { readonly outcome: "refused"; readonly detail: string };

/** The provider's answer to a refund, as {@link PaymentLinks.recordRefund} records it. */
export type RefundRecord =
  | {
      readonly outcome: "succeeded" | "pending";
      /** The provider payment refunded: only recorded if it is the payment's `paymentReference`. */
      readonly paymentReference: string;
      /** The provider's refund id. */
      readonly reference: string;
    }
  | { readonly outcome: "refused"; readonly paymentReference: string; readonly detail: string };

/** Result of `cancel`: `changed` is false exactly when the link was already canceled. */
export interface CancelResult {
  readonly payment: Payment;
  readonly changed: boolean;
}

/**
 * Options of a command that writes. `idempotency` stores a transport's response for an idempotency key
 * in the same atomic write as the command's own (see {@link IdempotentWrite}): a key's claim can then
 * never outlive its outcome. The store must implement `IdempotencyStore`.
 */
export interface CommandOptions {
  readonly idempotency?: {
    /** The key, claimed in the command's scope. */
    readonly key: string;
    /** The claim's token (`IdempotencyRecord.token`). */
    readonly token: string;
    /**
     * The response to store with a successful write, from the payment as written. Called before each
     * write attempt; not called for a command that writes nothing or is refused (the transport then
     * stores its answer itself: repeating such a command changes nothing).
     */
    readonly respond: (payment: Payment) => { readonly status: number; readonly body: string };
    /**
     * Called once the write that stored the response committed, so the transport need not store it
     * again (one commit fewer). Not called when nothing was written with the key.
     */
    readonly onStored?: () => void;
  };
  /**
   * For `paymentSucceeded`: the provider's payment. It is recorded as `providerState.paymentReference`, and
   * the same provider payment reported again (by the provider's webhook and by a stop that found the link
   * paid, say) is the one payment: it changes nothing the second time, so it is never two late payments.
   */
  readonly providerPayment?: ProviderPayment;
}

/** The commands of Paylink. Every method returns a `ResultAsync` and never throws or rejects. */
export interface PaymentLinks {
  /** Creates a payment link (or a charge) in `pending`. */
  create(
    scope: Scope,
    input: CreatePaymentInput,
    options?: CommandOptions,
  ): ResultAsync<Payment, PaylinkError>;
  /** Reads a payment, applying a due expiry first. */
  get(scope: Scope, id: string): ResultAsync<Payment, PaylinkError>;
  /**
   * Cancels a link that is pending, viewed or attempted. A canceled link answers `changed: false` and
   * writes nothing. Charges: `charge_not_cancelable`; processing, paid, expired: `payment_not_cancelable`.
   */
  cancel(scope: Scope, id: string, options?: CommandOptions): ResultAsync<CancelResult, PaylinkError>;
  /** Records that the customer opened the link (only the first view changes it). */
  view(scope: Scope, id: string, options?: CommandOptions): ResultAsync<Payment, PaylinkError>;
  /** Starts a payment: pending | viewed | attempted → processing, else `link_not_payable`. */
  startPayment(scope: Scope, id: string, options?: CommandOptions): ResultAsync<Payment, PaylinkError>;
  /** The payment in flight failed: processing → attempted (or expired if past `expiresAt`). */
  paymentFailed(scope: Scope, id: string, options?: CommandOptions): ResultAsync<Payment, PaylinkError>;
  /** The payment succeeded: → paid; on a canceled or expired link, a `late_payment` event is recorded. */
  paymentSucceeded(scope: Scope, id: string, options?: CommandOptions): ResultAsync<Payment, PaylinkError>;
  /**
   * Records the provider's answer to the stop of a canceled or expired link: `providerState.stop` becomes
   * `confirmed` (event `provider_stopped`) or `refused` (event `provider_stop_refused`). Recording what is
   * already recorded changes nothing; a payment without `providerState` is `invalid_request`.
   */
  recordProviderStop(
    scope: Scope,
    id: string,
    record: ProviderStopRecord,
  ): ResultAsync<CancelResult, PaylinkError>;
  /**
   * Records the provider's answer to the refund of a late payment: `providerState.refund` becomes
   * `succeeded` or `pending` (event `refunded`) or `refused` (event `refund_refused`). Recording what is
   * already recorded, or a refund of another provider payment than the link's, changes nothing.
   */
  recordRefund(scope: Scope, id: string, record: RefundRecord): ResultAsync<CancelResult, PaylinkError>;
  /**
   * Expires up to `limit` (default 100) due links, oldest expiry first, many at once; returns how many
   * were expired.
   */
  expireDue(limit?: number): ResultAsync<number, PaylinkError>;
  /**
   * Payments of `scope`, newest first, at most `limit` (1–100, default 20); `startingAfter` is the last
   * id of the previous page. Due expiries are applied first, as for `get`.
   */
  list(
    scope: Scope,
    options?: { limit?: number; startingAfter?: string },
  ): ResultAsync<Payment[], PaylinkError>;
  /**
   * Domain events after sequence `after` (default 0), in sequence order, at most `limit` (default 100).
   * Paging by the last sequence seen returns every committed event exactly once.
   */
  events(options?: { after?: number; limit?: number }): ResultAsync<readonly StoredEvent[], PaylinkError>;
}
