/**
 * What each endpoint does once its request is authenticated and its body read: parse the input, run the
 * command, and return an {@link Outcome}. Endpoints know no dialect; the route table pairs each with one.
 */
import {
  type CommandOptions,
  type CreatePaymentInput,
  errors,
  type PaymentLinks,
  type Scope,
} from "@paylink/core";
import { issuesOf } from "./body.js";
import type { Failure, Outcome } from "./dialect.js";
import { invalidParameters } from "./errors.js";
import { EmptyBody, ListQueryA } from "./schemas.js";

/** The raw parts of a request a parser sees. */
export interface RawInput {
  readonly body: Record<string, unknown>;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
}

/** Result of parsing: the input of `run`, or a failure (which is never stored under an idempotency key). */
export type Parsed<I> = { ok: true; value: I } | { ok: false; error: Failure };

/** What `run` gets besides its input. */
export interface RequestContext {
  readonly scope: Scope;
  /**
   * For a request with an `Idempotency-Key`: makes the command store the request's response in the same
   * atomic write as the payment (see `CommandOptions` in core).
   */
  readonly command: CommandOptions | undefined;
}

/** One endpoint: its parser and its command. */
export interface Endpoint<I> {
  /** `idPattern`: the ids worth a lookup (the app's option); others are `not_found` without one. */
  parse(request: RawInput, idPattern: RegExp): Parsed<I>;
  run(links: PaymentLinks, context: RequestContext, input: I): PromiseLike<Outcome>;
}

/** Payment ids the transport will look up; anything else is 404 without touching the store. */
export const DEFAULT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;

/** The `{id}` path parameter; an id outside `idPattern` is `not_found`, as if it had been looked up. */
function idOf(params: Readonly<Record<string, string>>, idPattern: RegExp): Parsed<string> {
  const id = params.id ?? "";
  return idPattern.test(id)
    ? { ok: true, value: id }
    : { ok: false, error: { refused: errors.notFound(id) } };
}

/** `POST …/{id}/cancel(lation)`: the payment, unchanged when it was canceled already. */
export const cancelPayment: Endpoint<string> = {
  parse({ body, params }, idPattern) {
    // A cancel takes no fields; zod runs only to name the unknown ones.
    if (Object.keys(body).length > 0) {
      const parsed = EmptyBody.safeParse(body);
      if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
    }
    return idOf(params, idPattern);
  },
  run(links, { scope, command }, id) {
    // `then` of the ResultAsync gives a plain promise (awaiting the ResultAsync itself costs extra turns);
    // core's `{ payment, changed }` is already an outcome.
    return links
      .cancel(scope, id, command)
      .then((result) => (result.isOk() ? result.value : { refused: result.error }));
  },
};

/** `GET …/{id}`. */
export const getPayment: Endpoint<string> = {
  parse: ({ params }, idPattern) => idOf(params, idPattern),
  run(links, { scope }, id) {
    return links
      .get(scope, id)
      .then((result) => (result.isOk() ? { payment: result.value } : { refused: result.error }));
  },
};

/** `POST` of a new payment, whose body each dialect reads its own way into core's input. */
export function createPayment(
  parseBody: (body: Record<string, unknown>) => Parsed<CreatePaymentInput>,
): Endpoint<CreatePaymentInput> {
  return {
    parse: ({ body }) => parseBody(body),
    run(links, { scope, command }, input) {
      return links
        .create(scope, input, command)
        .then((result) => (result.isOk() ? { payment: result.value } : { refused: result.error }));
    },
  };
}

interface ListInput {
  readonly limit: number;
  readonly startingAfter: string | undefined;
}

/** `GET /payments?limit&starting_after`: a page, newest first, and whether another follows. */
export const listPayments: Endpoint<ListInput> = {
  parse({ query }) {
    const raw: Record<string, string> = {};
    for (const [name, value] of query) {
      if (Object.hasOwn(raw, name)) {
        return {
          ok: false,
          error: invalidParameters([{ param: name, message: "must be given at most once" }]),
        };
      }
      raw[name] = value;
    }
    const parsed = ListQueryA.safeParse(raw);
    if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
    return { ok: true, value: { limit: parsed.data.limit ?? 20, startingAfter: parsed.data.starting_after } };
  },
  async run(links, { scope }, { limit, startingAfter }) {
    // Ask for one more than the page to learn `has_more`; core pages hold at most 100.
    const wanted = Math.min(limit + 1, 100);
    const page = await links.list(
      scope,
      startingAfter === undefined ? { limit: wanted } : { limit: wanted, startingAfter },
    );
    if (page.isErr()) return { refused: page.error };
    let payments = page.value;
    let hasMore = payments.length > limit;
    if (payments.length > limit) payments = payments.slice(0, limit);
    else if (payments.length === limit && wanted === limit) {
      const next = await links.list(scope, { limit: 1, startingAfter: payments[limit - 1]!.id });
      if (next.isErr()) return { refused: next.error };
      hasMore = next.value.length > 0;
    }
    return { page: payments, hasMore };
  },
};
