/**
 * Dialect A (seed 000): `/payments…`, `{ success, data }` / `{ success: false, error }` envelopes, integer
 * minor-unit amounts, business-rule failures as 409.
 */
import type { Payment, PaymentLinks } from "@paylink/core";
import { issuesOf } from "./body.js";
import {
  fromCoreError,
  HTTP_ERRORS,
  type HttpError,
  httpError,
  invalidParameters,
  retryAfterHeaders,
} from "./codes.js";
import type { Reply } from "./idempotency.js";
import { cancelEndpoint, type Dialect, type Endpoint, idParser, json, keyedCommand } from "./pipeline.js";
import { CreatePaymentA, ListQueryA } from "./schemas.js";

/** A payment in dialect A: exactly seed 000's fields, in its order (no lifecycle timestamps). */
export function toPaymentA(payment: Payment) {
  return {
    id: payment.id,
    customerId: payment.customerId,
    kind: payment.kind,
    status: payment.status,
    provider: payment.provider,
    amountSubtotal: payment.amountSubtotal,
    taxAmount: payment.taxAmount,
    amountTotal: payment.amountTotal,
    currency: payment.currency,
    description: payment.description,
    metadata: payment.metadata,
    url: payment.url,
    expiresAt: payment.expiresAt,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
    object: payment.object,
    livemode: payment.livemode,
  };
}

/** Dialect A's error envelope; `doc_url` is `${docsBaseUrl}/docs/errors.md#<code>`. */
export function dialectA(docsBaseUrl: string): Dialect {
  return {
    name: "A",
    allowApiKeyHeader: true,
    error(error: HttpError): Reply {
      const spec = HTTP_ERRORS[error.code];
      const body = JSON.stringify({
        success: false,
        error: {
          type: spec.type,
          code: error.code,
          message: error.message,
          param: error.param ?? null,
          details: error.details ?? null,
          doc_url: `${docsBaseUrl}/docs/errors.md#${error.code}`,
        },
      });
      return json(spec.status, body, retryAfterHeaders(error));
    },
  };
}

const ok = (payment: Payment) => json(200, JSON.stringify({ success: true, data: toPaymentA(payment) }));

/** The endpoints of dialect A over `links`. */
export function endpointsA(links: PaymentLinks, idPattern: RegExp) {
  const idOf = idParser(idPattern, () => httpError("resource_missing", "No such payment.", { param: "id" }));

  const cancel = cancelEndpoint(links, idOf, { payment: ok, error: (error) => fromCoreError(error) });

  const retrieve: Endpoint<string> = {
    write: false,
    bodyRequired: false,
    parse: ({ params }) => idOf(params),
    async run({ scope }, id) {
      const result = await links.get(scope, id);
      return result.isOk() ? ok(result.value) : fromCoreError(result.error);
    },
  };

  const create: Endpoint<typeof CreatePaymentA._output> = {
    write: true,
    bodyRequired: true,
    parse({ body }) {
      const parsed = CreatePaymentA.safeParse(body);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, error: invalidParameters(issuesOf(parsed.error)) };
    },
    async run(context, input) {
      const result = await links.create(context.scope, input, keyedCommand(context, ok));
      return result.isOk() ? ok(result.value) : fromCoreError(result.error);
    },
  };

  const list: Endpoint<{ limit: number; startingAfter: string | undefined }> = {
    write: false,
    bodyRequired: false,
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
      return {
        ok: true,
        value: { limit: parsed.data.limit ?? 20, startingAfter: parsed.data.starting_after },
      };
    },
    async run({ scope }, { limit, startingAfter }) {
      // Ask for one more than the page to learn `has_more`; core pages hold at most 100.
      const wanted = Math.min(limit + 1, 100);
      const page = await links.list(
        scope,
        startingAfter === undefined ? { limit: wanted } : { limit: wanted, startingAfter },
      );
      if (page.isErr())
        return fromCoreError(page.error, (field) => (field === "startingAfter" ? "starting_after" : field));
      let payments = page.value;
      let hasMore = payments.length > limit;
      if (payments.length > limit) payments = payments.slice(0, limit);
      else if (payments.length === limit && wanted === limit) {
        const next = await links.list(scope, { limit: 1, startingAfter: payments[limit - 1]!.id });
        if (next.isErr()) return fromCoreError(next.error);
        hasMore = next.value.length > 0;
      }
      return json(200, JSON.stringify({ success: true, data: payments.map(toPaymentA), has_more: hasMore }));
    },
  };

  return { cancel, retrieve, create, list };
}
