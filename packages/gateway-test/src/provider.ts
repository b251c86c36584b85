/**
 * The test provider itself: its objects in memory, the API the gateway calls (answers shaped like an
 * HTTP API's, so the gateway translates as a real one does), and the customer's side (paying, failing).
 */
import { randomBytes } from "node:crypto";
import { PAYLINK_ID_METADATA_KEY, type Payment } from "@paylink/core";

/** The state of a test provider link: `open` takes money; `stopped` and `paid` do not. */
export type TestLinkStatus = "open" | "stopped" | "paid";

/** A refund the test provider made. */
export interface TestRefund {
  /** `tre_…` */
  readonly reference: string;
  readonly paymentReference: string;
  readonly amount: number;
  readonly currency: string;
  readonly idempotencyKey: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A provider object as the test provider keeps it (a copy: changing it changes nothing). */
export interface TestLink {
  /** `tpl_…` */
  readonly reference: string;
  readonly url: string;
  readonly status: TestLinkStatus;
  /** Minor units. */
  readonly amount: number;
  readonly currency: string;
  readonly description: string | null;
  /** Carries {@link PAYLINK_ID_METADATA_KEY}: the Paylink payment id. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The payment that paid it (`tpi_…`), once paid. */
  readonly paymentReference: string | null;
  /** Refunds of that payment, oldest first. */
  readonly refunds: readonly TestRefund[];
}

/** What the provider's API answers: a body, a refusal with a code, or an error status. */
export type ApiAnswer<T> =
  | { readonly status: 200; readonly body: T }
  | { readonly status: 404 | 422; readonly code: string; readonly message: string }
  | { readonly status: 429 | 500; readonly retryAfterSeconds?: number };

/** A payment the provider took: what a refund refers to. */
interface TakenPayment {
  readonly reference: string;
  readonly link: string;
  readonly amount: number;
  readonly currency: string;
}

type MutableLink = { -readonly [K in keyof TestLink]: TestLink[K] } & { refunds: TestRefund[] };

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url")}`;

const refusal = (status: 404 | 422, code: string, message: string) => ({ status, code, message }) as const;

/** The test provider's memory and its operations; `createTestGateway` is its public face. */
export function createProviderState(urlFor: (reference: string, payment: Payment) => string) {
  const links = new Map<string, MutableLink>();
  const byPaylinkId = new Map<string, string>();
  const payments = new Map<string, TakenPayment>();
  const refunds = new Map<string, TestRefund>();

  const copy = (link: MutableLink): TestLink => ({
    ...link,
    metadata: { ...link.metadata },
    refunds: link.refunds.map((refund) => ({ ...refund, metadata: { ...refund.metadata } })),
  });

  return {
    /** `POST /links`, idempotent on the payment id: a retry answers the object made before. */
    createLink(payment: Payment): ApiAnswer<TestLink> {
      const existing = byPaylinkId.get(payment.id);
      if (existing !== undefined) {
        const link = links.get(existing)!;
        if (link.amount !== payment.amountTotal || link.currency !== payment.currency)
          return refusal(422, "idempotency_mismatch", "this payment id was used with another amount");
        return { status: 200, body: copy(link) };
      }
      if (!Number.isSafeInteger(payment.amountTotal) || payment.amountTotal <= 0)
        return refusal(422, "invalid_amount", "the amount must be a positive number of minor units");
      const reference = id("tpl");
      const link: MutableLink = {
        reference,
        url: urlFor(reference, payment),
        status: "open",
        amount: payment.amountTotal,
        currency: payment.currency,
        description: payment.description,
        metadata: { [PAYLINK_ID_METADATA_KEY]: payment.id },
        paymentReference: null,
        refunds: [],
      };
      links.set(reference, link);
      byPaylinkId.set(payment.id, reference);
      return { status: 200, body: copy(link) };
    },

    /** `POST /links/{reference}/stop`: the link as it ends up, and whether this call stopped it. */
    stopLink(reference: string): ApiAnswer<{ link: TestLink; changed: boolean }> {
      const link = links.get(reference);
      if (link === undefined) return refusal(404, "resource_missing", `no link ${reference}`);
      const changed = link.status === "open";
      if (changed) link.status = "stopped";
      return { status: 200, body: { link: copy(link), changed } };
    },

    /** `POST /refunds`, idempotent on the key: a retry answers the refund made before. */
    refund(request: {
      paymentReference: string;
      amount: number;
      currency: string;
      idempotencyKey: string;
      metadata: Record<string, string>;
    }): ApiAnswer<TestRefund> {
      const before = refunds.get(request.idempotencyKey);
      if (before !== undefined) {
        if (before.paymentReference !== request.paymentReference || before.amount !== request.amount)
          return refusal(422, "idempotency_mismatch", "this idempotency key was used for another refund");
        return { status: 200, body: { ...before, metadata: { ...before.metadata } } };
      }
      const payment = payments.get(request.paymentReference);
      if (payment === undefined)
        return refusal(404, "resource_missing", `no payment ${request.paymentReference}`);
      if (request.currency !== payment.currency)
        return refusal(422, "currency_mismatch", `the payment is in ${payment.currency}`);
      const link = links.get(payment.link)!;
      const refunded = link.refunds.reduce((sum, refund) => sum + refund.amount, 0);
      if (
        !Number.isSafeInteger(request.amount) ||
        request.amount <= 0 ||
        refunded + request.amount > payment.amount
      )
        return refusal(422, "amount_too_large", `at most ${payment.amount - refunded} can be refunded`);
      const refund: TestRefund = {
        reference: id("tre"),
        paymentReference: payment.reference,
        amount: request.amount,
        currency: payment.currency,
        idempotencyKey: request.idempotencyKey,
        metadata: { ...request.metadata },
      };
      refunds.set(request.idempotencyKey, refund);
      link.refunds.push(refund);
      return { status: 200, body: { ...refund, metadata: { ...refund.metadata } } };
    },

    /** The customer pays `reference` in full: the payment taken, or why the link takes no money. */
    pay(reference: string): TakenPayment | { readonly refused: "unknown_link" | "stopped" | "paid" } {
      const link = links.get(reference);
      if (link === undefined) return { refused: "unknown_link" };
      if (link.status !== "open") return { refused: link.status };
      const payment: TakenPayment = {
        reference: id("tpi"),
        link: reference,
        amount: link.amount,
        currency: link.currency,
      };
      payments.set(payment.reference, payment);
      link.status = "paid";
      link.paymentReference = payment.reference;
      return payment;
    },

    /** A copy of the link `reference`, if there is one. */
    link(reference: string): TestLink | undefined {
      const link = links.get(reference);
      return link && copy(link);
    },

    /** A new id with `prefix`, for events and forged payments. */
    newId: id,
  };
}

/** The test provider's memory; made by {@link createProviderState}. */
export type ProviderState = ReturnType<typeof createProviderState>;
