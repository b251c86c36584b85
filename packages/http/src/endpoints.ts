/**
 * What each endpoint does once its request is authenticated and its body read: parse the input, run the
 * command, and return an {@link Outcome}. Endpoints know no dialect; the route table pairs each with one.
 */
import {
  type CommandOptions,
  type CreatePaymentInput,
  errors,
  type PaylinkError,
  type Payment,
  type PaymentLinks,
  type Scope,
} from "@paylink/core";
import type { EventFeed } from "@paylink/core/store";
import type { WebhookEndpoints } from "@paylink/webhooks";
import type { z } from "zod";
import { issuesOf } from "./body.js";
import type { Failure, Outcome } from "./dialect.js";
import { invalidParameters } from "./errors.js";
import { EmptyBody, ListQueryA } from "./schemas.js";

/**
 * What endpoints run on: the payment commands, and the optional parts of the app. A route that needs an
 * optional part is only served when the app has it (see `needs` in `route.ts`).
 */
export interface Services {
  readonly links: PaymentLinks;
  readonly webhooks: WebhookEndpoints | undefined;
  readonly events: EventFeed | undefined;
}

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
  run(services: Services, context: RequestContext, input: I): PromiseLike<Outcome>;
}

/** Payment ids the transport will look up; anything else is 404 without touching the store. */
export const DEFAULT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;

/**
 * The path parameter `name` (default `id`); one outside `idPattern` is `not_found`, as if it had been
 * looked up.
 */
export function idOf(
  params: Readonly<Record<string, string>>,
  idPattern: RegExp,
  name = "id",
): Parsed<string> {
  const id = params[name] ?? "";
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
  run({ links }, { scope, command }, id) {
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
  run({ links }, { scope }, id) {
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
    run({ links }, { scope, command }, input) {
      return links
        .create(scope, input, command)
        .then((result) => (result.isOk() ? { payment: result.value } : { refused: result.error }));
    },
  };
}

/**
 * The query of a list as `schema` reads it; a parameter given twice is refused, as is any unknown one
 * (the schemas are strict).
 */
export function parseQuery<S extends z.ZodType>(query: URLSearchParams, schema: S): Parsed<z.output<S>> {
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
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
}

/** A page of a list, and whether another follows. */
export interface CursorPage<T> {
  readonly items: T[];
  readonly hasMore: boolean;
}

/** What a list reader answers: the items, or what core refused. */
export type Read<T> = T[] | { readonly refused: PaylinkError };

/**
 * A page of up to `limit` items after `startingAfter`, and whether more follow, from a reader that answers
 * at most `max` items a call: it asks for one item more than the page, and when that is more than the
 * reader gives (a full page of `max`), asks once more for one item after the page.
 */
export async function cursorPage<T>(
  read: (page: { limit: number; startingAfter?: string }) => PromiseLike<Read<T>>,
  idOfItem: (item: T) => string,
  limit: number,
  startingAfter: string | undefined,
  max: number,
): Promise<CursorPage<T> | { readonly refused: PaylinkError }> {
  const wanted = Math.min(limit + 1, max);
  const items = await read(
    startingAfter === undefined ? { limit: wanted } : { limit: wanted, startingAfter },
  );
  if (!Array.isArray(items)) return items;
  if (items.length > limit) return { items: items.slice(0, limit), hasMore: true };
  if (items.length < limit || wanted > limit) return { items, hasMore: false };
  const next = await read({ limit: 1, startingAfter: idOfItem(items[limit - 1]!) });
  return Array.isArray(next) ? { items, hasMore: next.length > 0 } : next;
}

interface ListInput {
  readonly limit: number;
  readonly startingAfter: string | undefined;
}

/** `GET /payments?limit&starting_after`: a page, newest first, and whether another follows. */
export const listPayments: Endpoint<ListInput> = {
  parse({ query }) {
    const parsed = parseQuery(query, ListQueryA);
    if (!parsed.ok) return parsed;
    return {
      ok: true,
      value: { limit: parsed.value.limit ?? 20, startingAfter: parsed.value.starting_after },
    };
  },
  async run({ links }, { scope }, { limit, startingAfter }) {
    // Core pages hold at most 100 payments.
    const read = (p: { limit: number; startingAfter?: string }): PromiseLike<Read<Payment>> =>
      links.list(scope, p).then((result) => (result.isOk() ? result.value : { refused: result.error }));
    const page = await cursorPage(read, (payment) => payment.id, limit, startingAfter, 100);
    return "refused" in page ? page : { page: page.items, hasMore: page.hasMore };
  },
};
