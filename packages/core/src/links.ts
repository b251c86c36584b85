import { createHash } from "node:crypto";
import { err, ok, type Result, ResultAsync } from "neverthrow";
import type { z } from "zod";
import type {
  CancelResult,
  CommandOptions,
  PaymentLinks,
  PaymentLinksOptions,
  ProviderPayment,
  ProviderStopRecord,
  RefundRecord,
} from "./commands.js";
import { can, type Decision, decide, isDue } from "./decision.js";
import { errors, type PaylinkError, type ValidationIssue } from "./errors.js";
import { type DomainEvent, eventPrefix } from "./events.js";
import { randomIds, systemClock } from "./ids.js";
import type { DomainEventName, LifecycleEventType, Status } from "./lifecycle.js";
import {
  type CreatePaymentInput,
  CreatePaymentInputSchema,
  isStorableText,
  type Payment,
  type ProviderState,
  type Scope,
  ScopeSchema,
} from "./schemas.js";
import { type IdempotentWrite, KEY_LOST, type StoredPayment } from "./store.js";

type Outcome = { readonly payment: Payment; readonly changed: boolean };

const MAX_ID_LENGTH = 255;
/**
 * How many due links `expireDue` expires at once. Their writes reach the store together, so a store that
 * groups commits (SQLite) makes one transaction of them instead of one fsync per link, and a pool-backed
 * store keeps its connections busy (docs/benchmarks.md, `expireDue`).
 */
const SWEEP_CONCURRENCY = 256;

function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/** Applies a decision to a payment: the next status and the timestamps it sets (each only once). */
function apply(payment: Payment, decision: Decision, now: string): Payment {
  if (decision.status === payment.status && decision.stamps.length === 0) return payment;
  const next: Payment = { ...payment, status: decision.status, updatedAt: now };
  for (const { field, at } of decision.stamps) {
    // A timestamp records the first time only: a second attempt keeps the first `attemptedAt`.
    if (next[field] === null) next[field] = at === "expiresAt" ? (payment.expiresAt ?? now) : now;
  }
  return next;
}

/** The provider state of a link just created at its provider (or first reported paid there). */
const openAtProvider = (reference: string | null): ProviderState => ({
  reference,
  stop: "none",
  stopDetail: null,
  paymentReference: null,
  refund: "none",
  refundDetail: null,
  refundReference: null,
});

/** Whether `reference` is a provider payment the link already recorded: its latest or an earlier one. */
const isKnown = (state: ProviderState | undefined, reference: string) =>
  state !== undefined &&
  (state.paymentReference === reference || (state.earlierPaymentReferences?.includes(reference) ?? false));

/**
 * The outside commands a write carries in its own payment: a link of a provider that the machine just
 * canceled or expired must be stopped there, so its stop becomes `pending` in the same atomic write as
 * the status (the relay's gateway sink carries it out). Read off the machine's announced events, not
 * off statuses. A payment the provider reported (`providerPayment`) is recorded with the write that
 * announced it.
 */
function withProviderCommands(
  payment: Payment,
  emits: readonly DomainEventName[],
  providerPayment: ProviderPayment | undefined,
): Payment {
  let state = payment.providerState;
  if (providerPayment !== undefined && (emits.includes("paid") || emits.includes("late_payment"))) {
    // A new provider payment (the same one again is only a read) starts its own refund: a refund of an
    // earlier one must not read as this one's, or the refund sink would skip it.
    const base = state ?? openAtProvider(null);
    // The one before is remembered, so that a later report of it is known as a repeat (see `isKnown`).
    const earlier =
      base.paymentReference === null
        ? base.earlierPaymentReferences
        : [...(base.earlierPaymentReferences ?? []), base.paymentReference];
    state = {
      ...base,
      paymentReference: providerPayment.reference,
      refund: "none",
      refundReference: null,
      refundDetail: null,
      ...(earlier === undefined ? {} : { earlierPaymentReferences: earlier }),
    };
  }
  if (state !== undefined && state.stop === "none" && state.reference !== null) {
    if (emits.includes("canceled") || emits.includes("expired")) state = { ...state, stop: "pending" };
  }
  return state === payment.providerState ? payment : { ...payment, providerState: state };
}

/**
 * Creates the Paylink commands over a store.
 *
 * @example
 * const links = createPaymentLinks({ store: createMemoryStore() });
 * const created = await links.create({ accountId: "acct_1", livemode: false }, { ... });
 */
export function createPaymentLinks(options: PaymentLinksOptions): PaymentLinks {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const urlFor = options.urlFor ?? ((payment: Payment) => `/pay/${payment.id}`);
  const maxRetries = options.maxRetries ?? 8;
  const gateway = options.gateway;

  const checkScope = (scope: Scope): Result<Scope, PaylinkError> => {
    // Cheap structural check first; zod only builds the error message.
    if (
      scope !== null &&
      typeof scope === "object" &&
      typeof scope.accountId === "string" &&
      scope.accountId.length > 0 &&
      scope.accountId.length <= 255 &&
      typeof scope.livemode === "boolean" &&
      isStorableText(scope.accountId)
    ) {
      return ok(scope);
    }
    const parsed = ScopeSchema.safeParse(scope);
    return err(errors.invalidRequest(parsed.success ? [] : issuesOf(parsed.error).map(prefix("scope"))));
  };

  const eventsFor = (
    scope: Scope,
    before: Status | null,
    payment: Payment,
    names: readonly string[],
    at: string,
  ): DomainEvent[] =>
    names.map((name) => ({
      id: ids.eventId(),
      type: `${eventPrefix(payment.kind)}.${name}` as DomainEvent["type"],
      paymentId: payment.id,
      accountId: scope.accountId,
      livemode: scope.livemode,
      occurredAt: at,
      previousStatus: before,
      payment,
    }));

  /**
   * Runs one command: read, apply a due expiry, decide, compare-and-swap; on a lost swap, read again and
   * decide again. `type` null only applies the due expiry (reads and sweeps).
   */
  async function run(
    scope: Scope,
    id: string,
    requested: LifecycleEventType | null,
    idempotency?: CommandOptions["idempotency"],
    providerPayment?: ProviderPayment,
  ): Promise<Result<Outcome, PaylinkError>> {
    const scoped = checkScope(scope);
    if (scoped.isErr()) return err(scoped.error);
    if (typeof id !== "string")
      return err(errors.invalidRequest([{ path: "id", message: "must be a string" }]));
    if (id.length === 0 || id.length > MAX_ID_LENGTH) return err(errors.notFound(id));
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const record = await store.get(scope, id);
      if (record === undefined) return err(errors.notFound(id));
      const current = record.payment;
      // The same provider payment reported twice is one payment: the second report is only a read.
      const type =
        providerPayment !== undefined && isKnown(current.providerState, providerPayment.reference)
          ? null
          : requested;
      const nowDate = clock.now();
      const due = isDue(current, nowDate.getTime());

      // Lazy expiry: a due expiry is applied before the command, so every reader sees `expired`.
      const expiry = decide(current.kind, current.status, "EXPIRE", due);
      if (expiry === undefined)
        return err(errors.storeUnavailable(new Error(`unknown status ${current.status}`)));
      // The ISO time is formatted only for a write: a no-op answers without it.
      let nowIso = "";
      const now = () => (nowIso ||= nowDate.toISOString());
      const expired = expiry.changes
        ? withProviderCommands(apply(current, expiry, now()), expiry.emits, undefined)
        : current;
      const expiryEvents = expiry.changes
        ? eventsFor(scope, current.status, expired, expiry.emits, now())
        : [];

      let next = expired;
      let commandEvents: DomainEvent[] = [];
      let rejection: PaylinkError | null = null;
      let changed = false;
      if (type !== null) {
        const decision = decide(expired.kind, expired.status, type, due)!;
        if (decision.reject !== null) {
          rejection =
            decision.reject === "charge_not_cancelable"
              ? errors.chargeNotCancelable(id)
              : decision.reject === "payment_not_cancelable"
                ? errors.paymentNotCancelable(id, expired.status)
                : errors.linkNotPayable(id, expired.status);
        } else if (decision.changes) {
          next = withProviderCommands(apply(expired, decision, now()), decision.emits, providerPayment);
          commandEvents = eventsFor(scope, expired.status, next, decision.emits, now());
          changed = true;
        }
      }

      const events = expiryEvents.length === 0 ? commandEvents : [...expiryEvents, ...commandEvents];
      if (events.length > 0) {
        const written = await store.compareAndSwap(
          scope,
          { payment: next, version: record.version + 1 },
          record.version,
          events,
          // A refused command's write is only its due expiry: its answer is the refusal, which the
          // transport stores itself.
          rejection === null ? keyed(idempotency, next) : undefined,
        );
        if (written === KEY_LOST) return err(keyLost(id));
        if (!written) continue;
        if (rejection === null) idempotency?.onStored?.();
      }
      if (rejection !== null) return err(rejection);
      return ok({ payment: next, changed: changed || (type === null && expiry.changes) });
    }
    return err(errors.conflict(id));
  }

  /** Wraps a command so that nothing throws or rejects across the API: failures become `store_unavailable`. */
  const safely = <T>(work: () => Promise<Result<T, PaylinkError>>): ResultAsync<T, PaylinkError> => {
    let promise: Promise<Result<T, PaylinkError>>;
    try {
      promise = work();
    } catch (cause) {
      promise = Promise.resolve(err(errors.storeUnavailable(cause)));
    }
    return new ResultAsync(promise.catch((cause: unknown) => err(errors.storeUnavailable(cause))));
  };

  const payment = (scope: Scope, id: string, type: LifecycleEventType | null, options?: CommandOptions) =>
    safely(async () =>
      (await run(scope, id, type, options?.idempotency, options?.providerPayment)).map(
        (outcome) => outcome.payment,
      ),
    );

  /**
   * Records a provider's answer in a link's `providerState` (never its status): read, let `change` say
   * the new state and its event (or nothing, when it is already recorded), compare-and-swap, again on a
   * lost swap.
   */
  async function annotate(
    scope: Scope,
    id: string,
    change: (state: ProviderState) => { state: ProviderState; event: DomainEventName } | undefined,
  ): Promise<Result<CancelResult, PaylinkError>> {
    const scoped = checkScope(scope);
    if (scoped.isErr()) return err(scoped.error);
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH)
      return err(errors.notFound(String(id)));
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const record = await store.get(scope, id);
      if (record === undefined) return err(errors.notFound(id));
      const current = record.payment;
      if (current.providerState === undefined) {
        return err(errors.invalidRequest([{ path: "id", message: "this payment has no provider object" }]));
      }
      const changed = change(current.providerState);
      if (changed === undefined) return ok({ payment: current, changed: false });
      const now = clock.now().toISOString();
      const next: Payment = { ...current, providerState: changed.state, updatedAt: now };
      const written = await store.compareAndSwap(
        scope,
        { payment: next, version: record.version + 1 },
        record.version,
        eventsFor(scope, current.status, next, [changed.event], now),
      );
      if (written === true) return ok({ payment: next, changed: true });
    }
    return err(errors.conflict(id));
  }

  const recordProviderStop = (record: ProviderStopRecord) => (state: ProviderState) => {
    if (record.outcome === "confirmed") {
      return state.stop === "confirmed"
        ? undefined
        : {
            state: { ...state, stop: "confirmed" as const, stopDetail: null },
            event: "provider_stopped" as const,
          };
    }
    return state.stop === "confirmed" || state.stop === "refused"
      ? undefined
      : {
          state: { ...state, stop: "refused" as const, stopDetail: record.detail },
          event: "provider_stop_refused" as const,
        };
  };

  const recordRefund = (record: RefundRecord) => (state: ProviderState) => {
    // Only the link's own provider payment, and never back from a final answer.
    if (state.paymentReference !== record.paymentReference) return undefined;
    if (state.refund === "succeeded" || state.refund === "refused") return undefined;
    if (record.outcome === "refused") {
      return {
        state: { ...state, refund: "refused" as const, refundDetail: record.detail },
        event: "refund_refused" as const,
      };
    }
    if (state.refund === record.outcome) return undefined;
    return {
      state: { ...state, refund: record.outcome, refundReference: record.reference, refundDetail: null },
      event: "refunded" as const,
    };
  };

  /** Creates the provider's object for a new link: its reference and URL, or why there is none. */
  async function atProvider(draft: Payment): Promise<Result<Payment, PaylinkError>> {
    if (gateway === undefined || draft.kind !== "link") return ok({ ...draft, url: urlFor(draft) });
    let created: Awaited<ReturnType<typeof gateway.createLink>>;
    try {
      created = await gateway.createLink(draft);
    } catch {
      return err(errors.providerUnavailable());
    }
    if (created.outcome === "retry_later") return err(errors.providerUnavailable(created.retryAfterMs));
    if (created.outcome === "refused") return err(errors.providerRefused(created.reason));
    return ok({ ...draft, url: created.url, providerState: openAtProvider(created.reference) });
  }

  async function create(
    scope: Scope,
    input: CreatePaymentInput,
    idempotency?: CommandOptions["idempotency"],
  ): Promise<Result<Payment, PaylinkError>> {
    const scoped = checkScope(scope);
    if (scoped.isErr()) return err(scoped.error);
    const parsed = CreatePaymentInputSchema.safeParse(input);
    if (!parsed.success) return err(errors.invalidRequest(issuesOf(parsed.error)));
    const value = parsed.data;
    // The gateway's sinks stop and refund the links of their own provider: a link named for another could
    // never be stopped.
    if (gateway !== undefined && value.kind === "link" && value.provider !== gateway.provider) {
      return err(
        errors.invalidRequest([
          { path: "provider", message: `must be "${gateway.provider}", the provider links are made at here` },
        ]),
      );
    }
    const nowDate = clock.now();
    const now = nowDate.toISOString();
    const expiresAt = value.expiresAt == null ? null : new Date(value.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= nowDate.getTime()) {
      return err(errors.invalidRequest([{ path: "expiresAt", message: "must be in the future" }]));
    }
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const draft: Payment = {
        // With a gateway, a keyed create's first id derives from its key: a retry of a create that died
        // after the provider made its object asks the provider again for the same payment id, which is the
        // provider's idempotency key, and gets the same object instead of a second payable one.
        id:
          attempt === 0 && gateway !== undefined && idempotency !== undefined
            ? keyedPaymentId(scope, idempotency.key, canonicalInput(value, expiresAt))
            : ids.paymentId(),
        customerId: value.customerId,
        kind: value.kind,
        status: "pending",
        provider: value.provider,
        amountSubtotal: value.amountSubtotal,
        taxAmount: value.taxAmount,
        amountTotal: value.amountSubtotal + value.taxAmount,
        currency: value.currency,
        description: value.description,
        metadata: value.metadata,
        url: "",
        expiresAt: expiresAt?.toISOString() ?? null,
        createdAt: now,
        updatedAt: now,
        object: "payment",
        livemode: scope.livemode,
        viewedAt: null,
        attemptedAt: null,
        paidAt: null,
        canceledAt: null,
        expiredAt: null,
      };
      const hosted = await atProvider(draft);
      if (hosted.isErr()) return err(hosted.error);
      const created = hosted.value;
      const record: StoredPayment = { payment: created, version: 1 };
      const written = await store.insert(
        scope,
        record,
        eventsFor(scope, null, created, ["created"], now),
        keyed(idempotency, created),
      );
      if (written === KEY_LOST) return err(keyLost("(new payment)"));
      if (written) {
        idempotency?.onStored?.();
        return ok(created);
      }
      // The id was taken: a random id collided, or a key was used again with the same body after its
      // retention. The provider object made for it must not stay payable, unless it is the one the payment
      // holding the id already has (a provider answers an id it has seen with the object it made for it).
      const orphan = created.providerState?.reference;
      if (gateway !== undefined && orphan != null) {
        const holder = await store.get(scope, draft.id);
        if (holder?.payment.providerState?.reference !== orphan)
          await gateway.stopLink(orphan).catch(() => undefined);
      }
    }
    return err(errors.conflict("(new payment id)"));
  }

  return {
    create: (scope, input, options) => safely(() => create(scope, input, options?.idempotency)),
    get: (scope, id) => payment(scope, id, null),
    cancel: (scope, id, options) => safely(() => run(scope, id, "CANCEL", options?.idempotency)),
    view: (scope, id, options) => payment(scope, id, "VIEW", options),
    startPayment: (scope, id, options) => payment(scope, id, "START_PAYMENT", options),
    paymentFailed: (scope, id, options) => payment(scope, id, "PAYMENT_FAILED", options),
    paymentSucceeded: (scope, id, options) => payment(scope, id, "PAYMENT_SUCCEEDED", options),
    recordProviderStop: (scope, id, record) => safely(() => annotate(scope, id, recordProviderStop(record))),
    recordRefund: (scope, id, record) => safely(() => annotate(scope, id, recordRefund(record))),
    expireDue: (limit = 100) =>
      safely(async () => {
        if (!Number.isSafeInteger(limit) || limit < 1) {
          return err(errors.invalidRequest([{ path: "limit", message: "must be a positive integer" }]));
        }
        const due = await store.findDue(clock.now().toISOString(), limit);
        let expired = 0;
        for (let start = 0; start < due.length; start += SWEEP_CONCURRENCY) {
          const chunk = due.slice(start, start + SWEEP_CONCURRENCY);
          // allSettled: the sweep answers only once every command it started has ended, even when one
          // of them failed, so nothing of it is still writing after `expireDue` returned.
          const settled = await Promise.allSettled(chunk.map((ref) => run(ref.scope, ref.id, null)));
          for (const outcome of settled) {
            if (outcome.status === "rejected") return err(errors.storeUnavailable(outcome.reason));
            const result = outcome.value;
            if (result.isErr() && result.error.code !== "not_found") return err(result.error);
            // A read changes a payment only by applying its due expiry.
            if (result.isOk() && result.value.changed) expired++;
          }
        }
        return ok(expired);
      }),
    list: (scope, { limit = 20, startingAfter } = {}) =>
      safely(async () => {
        const scoped = checkScope(scope);
        if (scoped.isErr()) return err(scoped.error);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) {
          return err(errors.invalidRequest([{ path: "limit", message: "must be an integer from 1 to 100" }]));
        }
        if (startingAfter !== undefined && typeof startingAfter !== "string") {
          return err(errors.invalidRequest([{ path: "startingAfter", message: "must be a payment id" }]));
        }
        const page = await store.list(
          scope,
          startingAfter === undefined ? { limit } : { limit, startingAfter },
        );
        const nowMs = clock.now().getTime();
        const out: Payment[] = [];
        for (const payment of page) {
          if (!can(payment, "EXPIRE", nowMs)) {
            out.push(payment);
            continue;
          }
          const fresh = await run(scope, payment.id, null);
          if (fresh.isErr()) return err(fresh.error);
          out.push(fresh.value.payment);
        }
        return ok(out);
      }),
    events: ({ after = 0, limit = 100 } = {}) =>
      safely(async () => {
        if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1) {
          return err(
            errors.invalidRequest([{ path: "after", message: "after ≥ 0 and limit ≥ 1 must be integers" }]),
          );
        }
        return ok(await store.readEvents(after, limit));
      }),
  };
}

/** A create's parsed input as one string, the same for equal inputs (metadata in key order). */
function canonicalInput(value: z.output<typeof CreatePaymentInputSchema>, expiresAt: Date | null): string {
  const metadata = Object.keys(value.metadata)
    .sort()
    .map((key) => [key, value.metadata[key]]);
  return JSON.stringify([
    value.kind,
    value.customerId,
    value.provider,
    value.amountSubtotal,
    value.taxAmount,
    value.currency,
    value.description,
    metadata,
    expiresAt?.toISOString() ?? null,
  ]);
}

/**
 * The payment id of a create made with an idempotency key (and a gateway): `pay_` and 24 URL-safe
 * characters of SHA-256 over the scope, the key and the request ({@link canonicalInput}), the same for
 * every retry of that request. The request is in it because a key may be used again once its record is
 * gone (24 h): with another body that is another payment, and the provider, which dedupes on the payment
 * id, must not be asked for the old id with a new amount (Stripe refuses that key).
 */
function keyedPaymentId(scope: Scope, key: string, input: string): string {
  const digest = createHash("sha256")
    .update(`paylink-create\n${scope.accountId}\n${scope.livemode}\n${key}\n${input}`)
    .digest("base64url");
  return `pay_${digest.slice(0, 24)}`;
}

/** The response to store with a write, for a command given an idempotency key. */
const keyed = (idempotency: CommandOptions["idempotency"], payment: Payment): IdempotentWrite | undefined =>
  idempotency === undefined
    ? undefined
    : { key: idempotency.key, token: idempotency.token, response: idempotency.respond(payment) };

/** A command whose idempotency key was taken over: nothing was written; the key's new holder answers. */
const keyLost = (id: string) => ({
  ...errors.conflict(id),
  message:
    "This request's Idempotency-Key was taken over by a retry after its lease ran out; nothing was changed. Retry with the same key to get that request's response.",
});

const prefix = (path: string) => (issue: ValidationIssue) => ({
  ...issue,
  path: issue.path ? `${path}.${issue.path}` : path,
});
