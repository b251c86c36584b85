import type { Status } from "./lifecycle.js";

/**
 * The one registry of Paylink's error codes (an {@link ErrorCode} is one of its keys). Core errors, HTTP
 * bodies and `docs/errors.md` all read it, so a code cannot exist in one place and not the others.
 */
export const ERROR_CODES = {
  invalid_request: {
    title: "Invalid request",
    description: "The input failed validation. `issues` lists each problem with the path of the field.",
  },
  not_found: {
    title: "Not found",
    description:
      "No payment with this id exists in the caller's account and mode. Payments of another account or mode are reported the same way, so ids cannot be probed.",
  },
  charge_not_cancelable: {
    title: "Charges cannot be canceled",
    description:
      "Only payment links can be canceled. A charge is refused in every status and nothing is written.",
  },
  payment_not_cancelable: {
    title: "Payment cannot be canceled",
    description:
      "Only a link that is `pending`, `viewed` or `attempted` can be canceled. A link that is processing, paid or expired is refused; `status` says which. Canceling a canceled link is not an error: it succeeds and changes nothing.",
  },
  link_not_payable: {
    title: "Link cannot be paid",
    description:
      "A payment cannot start: the link is final (paid, canceled, expired, failed) or a payment is already in flight. `status` says which.",
  },
  conflict: {
    title: "Conflict",
    description:
      "Concurrent writes to the same payment kept winning the race and the command gave up after its retries. Retrying the command is safe.",
  },
  store_unavailable: {
    title: "Store unavailable",
    description:
      "The storage adapter failed (connection lost, disk full, missing table …). Nothing was changed by the failed command. `cause` holds the adapter's error for logs; it is never sent to HTTP clients.",
  },
  provider_unavailable: {
    title: "Payment provider unavailable",
    description:
      "Creating the link needs its payment provider's object, and the provider could not answer now (down, rate-limited, timed out). Nothing was stored. Retrying the create is safe.",
  },
  provider_refused: {
    title: "Payment provider refused",
    description:
      "The payment provider refused to create the link's object (for example an amount or currency it does not accept). Nothing was stored; `reason` says what the provider answered.",
  },
} as const satisfies Record<string, { title: string; description: string }>;
export type ErrorCode = keyof typeof ERROR_CODES;

/** One validation problem: the dotted path of the field and what is wrong with it. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** The input failed validation. */
export interface InvalidRequest {
  readonly code: "invalid_request";
  readonly message: string;
  readonly issues: readonly ValidationIssue[];
}
/** No such payment in this scope. */
export interface NotFound {
  readonly code: "not_found";
  readonly message: string;
  readonly id: string;
}
/** A charge cannot be canceled. */
export interface ChargeNotCancelable {
  readonly code: "charge_not_cancelable";
  readonly message: string;
  readonly id: string;
}
/** The link's status does not allow cancel. */
export interface PaymentNotCancelable {
  readonly code: "payment_not_cancelable";
  readonly message: string;
  readonly id: string;
  readonly status: Status;
}
/** The link's status does not allow a payment to start. */
export interface LinkNotPayable {
  readonly code: "link_not_payable";
  readonly message: string;
  readonly id: string;
  readonly status: Status;
}
/** Optimistic-concurrency retries exhausted. */
export interface Conflict {
  readonly code: "conflict";
  readonly message: string;
  readonly id: string;
}
/** The store failed; `cause` is the adapter's error, for logs only. */
export interface StoreUnavailable {
  readonly code: "store_unavailable";
  readonly message: string;
  readonly cause: unknown;
}

/** The payment provider could not answer a create now; nothing was stored. */
export interface ProviderUnavailable {
  readonly code: "provider_unavailable";
  readonly message: string;
  /** When the provider asked to be retried, in milliseconds. */
  readonly retryAfterMs?: number;
}
/** The payment provider refused a create; nothing was stored. */
export interface ProviderRefused {
  readonly code: "provider_refused";
  readonly message: string;
  /** The provider's own words, for the merchant. */
  readonly reason: string;
}

/** Every error a Paylink command can return, discriminated by `code`. */
export type PaylinkError =
  | InvalidRequest
  | NotFound
  | ChargeNotCancelable
  | PaymentNotCancelable
  | LinkNotPayable
  | Conflict
  | StoreUnavailable
  | ProviderUnavailable
  | ProviderRefused;

/** Constructors for each error, so messages are written once. */
export const errors = {
  invalidRequest: (issues: readonly ValidationIssue[]): InvalidRequest => ({
    code: "invalid_request",
    message: issues
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
      .join("; "),
    issues,
  }),
  notFound: (id: string): NotFound => ({ code: "not_found", message: "No such payment.", id }),
  chargeNotCancelable: (id: string): ChargeNotCancelable => ({
    code: "charge_not_cancelable",
    message: "Charges cannot be canceled; only payment links can.",
    id,
  }),
  paymentNotCancelable: (id: string, status: Status): PaymentNotCancelable => ({
    code: "payment_not_cancelable",
    message: `A payment link that is ${status} cannot be canceled.`,
    id,
    status,
  }),
  linkNotPayable: (id: string, status: Status): LinkNotPayable => ({
    code: "link_not_payable",
    message:
      status === "processing"
        ? "A payment is already in flight for this link."
        : `A payment that is ${status} cannot be paid.`,
    id,
    status,
  }),
  conflict: (id: string): Conflict => ({
    code: "conflict",
    message: "The payment kept changing concurrently; the command gave up. Retrying is safe.",
    id,
  }),
  storeUnavailable: (cause: unknown): StoreUnavailable => ({
    code: "store_unavailable",
    message: "The payment store is unavailable; nothing was changed.",
    cause,
  }),
  providerUnavailable: (retryAfterMs?: number): ProviderUnavailable => ({
    code: "provider_unavailable",
    message: "The payment provider could not be reached; nothing was created. Retrying is safe.",
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }),
  providerRefused: (reason: string): ProviderRefused => ({
    code: "provider_refused",
    message: `The payment provider refused to create the link: ${reason}`,
    reason,
  }),
};
