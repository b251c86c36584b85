import type { CommandOptions, PaylinkError, Payment, PaymentLinks, Scope } from "@paylink/core";
import type { Principal } from "./auth.js";
import { issuesOf } from "./body.js";
import { type HttpError, invalidParameters } from "./codes.js";
import type { Reply } from "./idempotency.js";
import { EmptyBody } from "./schemas.js";

/** How one API dialect writes its bodies and reads its credentials. */
export interface Dialect {
  readonly name: "A" | "B";
  /** Dialect A also takes `x-api-key`; both take `Authorization: Bearer`. */
  readonly allowApiKeyHeader: boolean;
  /** Formats an error in the dialect (status, body, headers). */
  error(error: HttpError): Reply;
}

/** What a handler gets once the request is authenticated and its input parsed. */
export interface RequestContext {
  readonly scope: Scope;
  readonly principal: Principal;
  readonly now: Date;
  /** The request's claimed `Idempotency-Key` and the claim's token, when it carries one. */
  readonly idempotency?: { readonly key: string; readonly token: string };
}

/**
 * The options that make a command store `respond(payment)` for the request's idempotency key in the same
 * atomic write as the payment (see `CommandOptions` in core); `undefined` for a request without a key.
 */
export function keyedCommand(
  context: RequestContext,
  respond: (payment: Payment) => Reply,
): CommandOptions | undefined {
  const claim = context.idempotency;
  if (claim === undefined) return undefined;
  return {
    idempotency: {
      key: claim.key,
      token: claim.token,
      respond: (payment) => {
        const { status, body } = respond(payment);
        return { status, body };
      },
    },
  };
}

/** The raw parts of a request a parser sees. */
export interface RawInput {
  readonly body: Record<string, unknown>;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
}

/** Result of parsing: the handler's input, or a 4xx error (which is never stored under an idempotency key). */
export type Parsed<I> = { ok: true; value: I } | { ok: false; error: HttpError };

/** One endpoint of a dialect. */
export interface Endpoint<I> {
  /** POST: needs a key that can write; reads the body; honours `Idempotency-Key`. */
  readonly write: boolean;
  /** For writes: is a JSON object body required (`true`) or may it be empty (`false`, cancel)? */
  readonly bodyRequired: boolean;
  parse(input: RawInput): Parsed<I>;
  run(context: RequestContext, input: I): PromiseLike<Reply | HttpError>;
}

/** JSON reply helper. */
export const json = (status: number, body: string, headers?: Record<string, string>): Reply =>
  headers === undefined ? { status, body } : { status, body, headers };

/** Payment ids the transport will look up; anything else is 404 without touching the store. */
export const DEFAULT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;

/** Reads the `{id}` path parameter: an id outside `idPattern` is `notFound()`, without touching the store. */
export function idParser(idPattern: RegExp, notFound: () => HttpError) {
  return (params: Readonly<Record<string, string>>): Parsed<string> => {
    const id = params.id ?? "";
    return idPattern.test(id) ? { ok: true, value: id } : { ok: false, error: notFound() };
  };
}

/** Parses a cancel request in either dialect: the id, and no body fields (zod only runs to name them). */
export function cancelParser(idOf: (params: Readonly<Record<string, string>>) => Parsed<string>) {
  return ({ body, params }: RawInput): Parsed<string> => {
    if (Object.keys(body).length > 0) {
      const parsed = EmptyBody.safeParse(body);
      if (!parsed.success) return { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
    }
    return idOf(params);
  };
}

/**
 * `cancel` in either dialect: parse the id (no body fields), cancel, and answer the payment — unchanged for
 * an already canceled link — or the dialect's error.
 */
export function cancelEndpoint(
  links: PaymentLinks,
  idOf: (params: Readonly<Record<string, string>>) => Parsed<string>,
  answer: { payment(payment: Payment): Reply; error(error: PaylinkError): HttpError },
): Endpoint<string> {
  return {
    write: true,
    bodyRequired: false,
    parse: cancelParser(idOf),
    run(context, id) {
      // `then` of the ResultAsync gives a plain promise (awaiting the ResultAsync itself costs extra turns).
      return links
        .cancel(context.scope, id, keyedCommand(context, answer.payment))
        .then((result) =>
          result.isOk() ? answer.payment(result.value.payment) : answer.error(result.error),
        );
    },
  };
}
