import type { PaylinkError } from "@paylink/core";

/** The `type` of a dialect-A error: the family of the failure. */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "invalid_state_error"
  | "rate_limit_error"
  | "api_error";

/** What the registry says about one HTTP error code. */
export interface HttpErrorSpec {
  /** HTTP status in dialect A (the payments API). */
  readonly status: number;
  /** HTTP status in dialect B (DNA); business-rule failures answer 422 there. */
  readonly dnaStatus: number;
  readonly type: ErrorType;
  readonly title: string;
  readonly description: string;
  /**
   * Seconds a client should wait before retrying (`Retry-After` in both dialects); absent when retrying
   * cannot help. An error may carry its own value, which wins.
   */
  readonly retryAfterSeconds?: number;
}

/**
 * The one registry of HTTP error codes of `@paylink/http`: status in each dialect, dialect-A `type`, and
 * the text of `docs/errors.md#<code>`. Every error body either dialect sends uses a code from here.
 */
export const HTTP_ERRORS = {
  body_invalid: {
    status: 400,
    dnaStatus: 400,
    type: "invalid_request_error",
    title: "Body invalid",
    description:
      'The request body is not a JSON object: it is missing where one is required, is not valid JSON or UTF-8, is not an object, or repeats a key within one object (`{"a": 1, "a": 2}`, at any depth; `"a"` and `"\\u0061"` are the same key). Readers disagree on which of two equal keys counts, so such a body is refused rather than guessed.',
  },
  parameter_invalid: {
    status: 400,
    dnaStatus: 400,
    type: "invalid_request_error",
    title: "Parameter invalid",
    description:
      "A field of the body or query is missing, unknown, of the wrong type or out of range. `param` names the first one; `details.issues` lists all of them.",
  },
  idempotency_key_invalid: {
    status: 400,
    dnaStatus: 400,
    type: "invalid_request_error",
    title: "Idempotency key invalid",
    description:
      "The `Idempotency-Key` header must be sent once, as 1 to 255 printable ASCII characters other than the comma. HTTP joins two headers of one name into one value with `, `, so a comma is how a second `Idempotency-Key` shows.",
  },
  api_key_missing: {
    status: 401,
    dnaStatus: 401,
    type: "authentication_error",
    title: "API key missing",
    description:
      "No API key was sent. Dialect A takes `x-api-key: <key>` or `Authorization: Bearer <key>`; dialect B takes `Authorization: Bearer <key>`.",
  },
  api_key_invalid: {
    status: 401,
    dnaStatus: 401,
    type: "authentication_error",
    title: "API key invalid",
    description:
      "The API key is not known, the `Authorization` header is not `Bearer <key>`, or two different keys were sent.",
  },
  key_not_permitted: {
    status: 403,
    dnaStatus: 403,
    type: "permission_error",
    title: "Key not permitted",
    description: "The API key is valid but may not do this, e.g. a read-only key sent a POST.",
  },
  resource_missing: {
    status: 404,
    dnaStatus: 404,
    type: "not_found_error",
    title: "Resource missing",
    description:
      "No payment, webhook endpoint or delivery with this id exists for the key's account and mode (those of other accounts or modes are reported the same way). In dialect B, charges are not payment links and are missing too.",
  },
  route_missing: {
    status: 404,
    dnaStatus: 404,
    type: "not_found_error",
    title: "Route missing",
    description: "No endpoint has this path.",
  },
  method_not_allowed: {
    status: 405,
    dnaStatus: 405,
    type: "invalid_request_error",
    title: "Method not allowed",
    description: "The path exists but not with this HTTP method; the `Allow` header lists the methods.",
  },
  payment_not_cancelable: {
    status: 409,
    dnaStatus: 422,
    type: "invalid_state_error",
    title: "Payment cannot be canceled",
    description:
      "Only a link that is `pending`, `viewed` or `attempted` (DNA: `active`, `viewed`, `attempted` with no payment in flight) can be canceled. `details.status` says which status refused. Canceling a canceled link is not an error: it answers 200 and changes nothing.",
  },
  charge_not_cancelable: {
    status: 409,
    dnaStatus: 422,
    type: "invalid_state_error",
    title: "Charges cannot be canceled",
    description:
      "Only payment links can be canceled; a charge is refused in every status and nothing is written.",
  },
  link_not_payable: {
    status: 409,
    dnaStatus: 422,
    type: "invalid_state_error",
    title: "Link cannot be paid",
    description: "A payment cannot start on this link: it is final or a payment is already in flight.",
  },
  conflict: {
    status: 409,
    dnaStatus: 409,
    type: "invalid_state_error",
    title: "Concurrent update",
    description:
      "Concurrent writes to the same payment kept winning the race and the request gave up. Nothing was changed by it; retrying is safe.",
  },
  idempotency_key_in_use: {
    status: 409,
    dnaStatus: 409,
    type: "invalid_request_error",
    title: "Idempotency key in use",
    description:
      "A request with this `Idempotency-Key` is still running. Retry after it finished to get its response.",
    // Each refusal carries the seconds left on the first request's lease.
    retryAfterSeconds: 1,
  },
  body_too_large: {
    status: 413,
    dnaStatus: 413,
    type: "invalid_request_error",
    title: "Body too large",
    description: "The request body is larger than the server's limit (64 KiB unless configured otherwise).",
  },
  content_type_unsupported: {
    status: 415,
    dnaStatus: 415,
    type: "invalid_request_error",
    title: "Content type unsupported",
    description: "A request body must be sent as `Content-Type: application/json`.",
  },
  idempotency_key_reused: {
    status: 422,
    dnaStatus: 422,
    type: "invalid_request_error",
    title: "Idempotency key reused",
    description:
      "This `Idempotency-Key` was already used (within 24 hours) for a request with a different method, path or body. Use a new key for a new request.",
  },
  too_many_auth_failures: {
    status: 429,
    dnaStatus: 429,
    type: "rate_limit_error",
    title: "Too many failed authentications",
    description:
      "This client sent too many unknown API keys within the server's window (the `authFailureLimit` option, off unless the server turns it on). Until `Retry-After` seconds have passed, every request from it that carries an API key is refused without checking the key, valid keys included; requests of other clients are not affected.",
    // Each refusal carries the seconds until the client's oldest failure leaves the window.
    retryAfterSeconds: 1,
  },
  internal_error: {
    status: 500,
    dnaStatus: 500,
    type: "api_error",
    title: "Internal error",
    description:
      "Something failed inside the server. The response never carries details; the server logs do.",
  },
  store_unavailable: {
    status: 503,
    dnaStatus: 503,
    type: "api_error",
    title: "Service unavailable",
    description:
      "The payment store failed (connection lost, disk full …). Nothing was changed by the request, and an `Idempotency-Key` it carried is released: retry it after `Retry-After` seconds.",
    // A store failure is usually brief (a failover, a lock), and nothing was written: retry soon.
    retryAfterSeconds: 1,
  },
  provider_unavailable: {
    status: 503,
    dnaStatus: 503,
    type: "api_error",
    title: "Payment provider unavailable",
    description:
      "Creating a link needs its object at the payment provider, and the provider could not answer (down, rate-limited, timed out). Nothing was created; an `Idempotency-Key` is released. Retry after `Retry-After` seconds.",
    retryAfterSeconds: 5,
  },
  provider_refused: {
    status: 502,
    dnaStatus: 502,
    type: "api_error",
    title: "Payment provider refused",
    description:
      "The payment provider refused to create the link's object (an amount or currency it does not take, a revoked key). Nothing was created; `message` gives the provider's reason.",
  },
} as const satisfies Record<string, HttpErrorSpec>;

/** A stable HTTP error code of `@paylink/http`. */
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** An error on its way to the client, before a dialect formats it. */
export interface HttpError {
  readonly code: HttpErrorCode;
  readonly message: string;
  /** The field, header or path parameter at fault (dialect A `param`). */
  readonly param?: string | null;
  /** Machine-readable extra facts (dialect A `details`), e.g. `{ status }`. */
  readonly details?: Record<string, unknown> | null;
  /** What failed underneath (a store error), for `onError` only: never sent to the client. */
  readonly cause?: unknown;
  /** This error's `Retry-After`, in seconds, in place of its code's default in {@link HTTP_ERRORS}. */
  readonly retryAfterSeconds?: number;
}

/**
 * The seconds of an error's `Retry-After` header: its own `retryAfterSeconds`, else its code's in
 * {@link HTTP_ERRORS}; `undefined` for codes that retrying cannot help.
 */
export function retryAfterOf(error: HttpError): number | undefined {
  return error.retryAfterSeconds ?? (HTTP_ERRORS[error.code] as HttpErrorSpec).retryAfterSeconds;
}

/** The `Retry-After` header of an error, for a dialect's reply; see {@link retryAfterOf}. */
export function retryAfterHeaders(error: HttpError): Record<string, string> | undefined {
  const seconds = retryAfterOf(error);
  return seconds === undefined ? undefined : { "Retry-After": String(seconds) };
}

/** Builds an {@link HttpError}. */
export const httpError = (
  code: HttpErrorCode,
  message: string,
  extra: { param?: string | null; details?: Record<string, unknown> | null; retryAfterSeconds?: number } = {},
): HttpError =>
  extra.retryAfterSeconds === undefined
    ? { code, message, param: extra.param ?? null, details: extra.details ?? null }
    : {
        code,
        message,
        param: extra.param ?? null,
        details: extra.details ?? null,
        retryAfterSeconds: extra.retryAfterSeconds,
      };

/** True for a value made by {@link httpError}. */
export const isHttpError = (value: unknown): value is HttpError =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { code?: unknown }).code === "string" &&
  Object.hasOwn(HTTP_ERRORS, (value as { code: string }).code) &&
  typeof (value as { message?: unknown }).message === "string";

/** One validation problem, with the field in the dialect's names. */
export interface Issue {
  readonly param: string | null;
  readonly message: string;
}

/** A 400 `parameter_invalid` listing `issues` in `details.issues`; `param` is the first one's. */
export function invalidParameters(issues: readonly Issue[]): HttpError {
  const message = issues
    .map((issue) => (issue.param ? `${issue.param}: ${issue.message}` : issue.message))
    .join("; ");
  return httpError("parameter_invalid", message || "The request is invalid.", {
    param: issues[0]?.param ?? null,
    details: { issues },
  });
}

/**
 * Maps a core error to its HTTP error. `rename` translates core field names to the dialect's (e.g.
 * `expiresAt` → `expirationDate` in dialect B). `store_unavailable`'s cause is dropped: it is for logs only.
 */
export function fromCoreError(error: PaylinkError, rename: (field: string) => string = (f) => f): HttpError {
  switch (error.code) {
    case "invalid_request":
      return invalidParameters(
        error.issues.map((issue) => ({
          param: issue.path === "" ? null : rename(issue.path),
          message: issue.message,
        })),
      );
    case "not_found":
      return httpError("resource_missing", "No such payment.", { param: "id" });
    case "charge_not_cancelable":
      return httpError("charge_not_cancelable", error.message, { param: "id" });
    case "payment_not_cancelable":
      return httpError("payment_not_cancelable", error.message, {
        param: "id",
        details: { status: error.status },
      });
    case "link_not_payable":
      return httpError("link_not_payable", error.message, { param: "id", details: { status: error.status } });
    case "conflict":
      return httpError("conflict", error.message, { param: "id" });
    case "store_unavailable":
      return {
        ...httpError("store_unavailable", "The service is temporarily unavailable; nothing was changed."),
        cause: error.cause,
      };
    case "provider_unavailable":
      return error.retryAfterMs === undefined
        ? httpError("provider_unavailable", error.message)
        : httpError("provider_unavailable", error.message, {
            retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterMs / 1000)),
          });
    case "provider_refused":
      return httpError("provider_refused", error.message);
  }
}

/** `docs/errors.md`-style Markdown for every HTTP error code, one `### code` heading (anchor) each. */
export function httpErrorsMarkdown(): string {
  const lines = [
    "## HTTP errors",
    "",
    "Codes answered by `@paylink/http`. Dialect A sends `{ success: false, error: { type, code, message, param, details, doc_url } }`; dialect B (DNA) sends `{ code, message }`.",
    "",
    "| code | HTTP (A) | HTTP (B, DNA) | type (A) |",
    "|---|---|---|---|",
  ];
  for (const [code, spec] of Object.entries(HTTP_ERRORS)) {
    lines.push(`| [\`${code}\`](#${code}) | ${spec.status} | ${spec.dnaStatus} | \`${spec.type}\` |`);
  }
  for (const [code, spec] of Object.entries(HTTP_ERRORS)) {
    lines.push("", `### ${code}`, "", `**${spec.title}** — HTTP ${spec.status}`);
    if (spec.dnaStatus !== spec.status) lines[lines.length - 1] += ` (dialect B: ${spec.dnaStatus})`;
    lines.push("", spec.description);
  }
  return `${lines.join("\n")}\n`;
}
