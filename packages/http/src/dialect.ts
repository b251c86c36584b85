/**
 * What an endpoint answers and what an API dialect makes of it. An endpoint knows no dialect: it returns
 * an {@link Outcome}, and the app has the route's dialect write it, once per request.
 */
import type { PaylinkError, Payment } from "@paylink/core";
import type { HttpError } from "./errors.js";
import type { Reply } from "./replies.js";

/** A request the transport refused (an {@link HttpError}), or a command core refused. */
export type Failure = HttpError | { readonly refused: PaylinkError };

/**
 * What a request comes back with: a payment, a page of payments, another resource already in its JSON
 * shape (`data`; webhook endpoints, deliveries), a list of those (`list`), or a failure.
 */
export type Outcome =
  | { readonly payment: Payment }
  | { readonly page: readonly Payment[]; readonly hasMore: boolean }
  | { readonly data: unknown }
  | { readonly list: readonly unknown[]; readonly hasMore: boolean }
  | Failure;

/** The API dialects, by the name the route table uses. */
export type DialectName = "payments" | "dna";

/** One API dialect: how it reads credentials and how it writes outcomes. */
export interface Dialect {
  readonly name: DialectName;
  /** The payments API also takes `x-api-key`; both take `Authorization: Bearer`. */
  readonly allowApiKeyHeader: boolean;
  /** Status, body and headers of an outcome in this dialect. */
  write(outcome: Outcome): Reply;
}
