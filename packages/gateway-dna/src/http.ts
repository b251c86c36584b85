/**
 * DNA's HTTP: one request with a timeout, the OAuth client-credentials token (cached, refreshed before it
 * expires, refreshed once on a 401), and the classification of every answer into "retry later" or
 * "refused". Nothing here throws for a provider's answer: network errors and timeouts are values too.
 */

/** What one HTTP exchange with DNA gave. */
export type Reply =
  | { readonly kind: "http"; readonly status: number; readonly body: unknown; readonly retryAfterMs?: number }
  /** No HTTP answer: connection refused or reset, DNS, or the timeout. */
  | { readonly kind: "network"; readonly detail: string }
  /** No token could be had, so the call was not made. */
  | { readonly kind: "token"; readonly failure: Failure };

/** A failed exchange, classified for the port's answers. */
export type Failure =
  | { readonly retry: true; readonly detail: string; readonly retryAfterMs?: number }
  | { readonly retry: false; readonly status: number; readonly reason: string };

/** Everything the transport needs; built once by `createDnaGateway`. */
export interface Transport {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** Sends one request; never rejects. The body is parsed as JSON when it is JSON, else kept as text. */
export async function send(
  transport: Transport,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<Reply> {
  const signal = AbortSignal.timeout(transport.timeoutMs);
  try {
    const response = await transport.fetch(url, { ...init, signal });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's HTML error page, say): the text is kept for the log line.
    }
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), transport.now());
    return retryAfterMs === undefined
      ? { kind: "http", status: response.status, body }
      : { kind: "http", status: response.status, body, retryAfterMs };
  } catch (error) {
    const detail = signal.aborted ? `timeout after ${transport.timeoutMs} ms` : describe(error);
    return { kind: "network", detail };
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `network: ${cause.code}`;
  return `network: ${error instanceof Error ? error.message : String(error)}`;
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The failure matrix: 5xx, 429 and no answer at all are worth retrying; any other 4xx is a refusal,
 * reported with DNA's `{code, message}` when the body has them.
 */
export function classify(reply: Reply): Failure {
  if (reply.kind === "network") return { retry: true, detail: reply.detail };
  if (reply.kind === "token") return reply.failure;
  const { status } = reply;
  if (status >= 500 || status === 429) {
    const detail = `HTTP ${status}`;
    return reply.retryAfterMs === undefined
      ? { retry: true, detail }
      : { retry: true, detail, retryAfterMs: reply.retryAfterMs };
  }
  return { retry: false, status, reason: `DNA HTTP ${status}${dnaError(reply.body)}` };
}

/** `: <code> <message>` from DNA's error body `{code, message}` (or OAuth's `{error}`), if present. */
export function dnaError(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const { code, message, error, error_description } = body as Record<string, unknown>;
  const parts = [code ?? error, message ?? error_description].filter(
    (part) => typeof part === "string" || typeof part === "number",
  );
  return parts.length > 0 ? `: ${parts.join(" ")}` : "";
}

/** The OAuth credentials and where to send them. */
export interface Credentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Refresh this long before `expires_in` runs out (capped at half the token's life). */
  readonly refreshMarginMs: number;
}

interface CachedToken {
  readonly token: string;
  readonly refreshAt: number;
}

/**
 * OAuth client-credentials tokens, one per scope (`pay_by_link` for links; DNA's refund API wants
 * `webapi`). A token is reused until shortly before it expires; concurrent callers share one request.
 */
export class TokenSource {
  private readonly cached = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<{ token: string } | Failure>>();

  constructor(
    private readonly transport: Transport,
    private readonly credentials: Credentials,
  ) {}

  /** A valid token for `scope`, from the cache when it is fresh enough. */
  get(scope: string): Promise<{ token: string } | Failure> {
    const hit = this.cached.get(scope);
    if (hit && this.transport.now() < hit.refreshAt) return Promise.resolve({ token: hit.token });
    const pending = this.inFlight.get(scope);
    if (pending) return pending;
    const request = this.fetchToken(scope).finally(() => this.inFlight.delete(scope));
    this.inFlight.set(scope, request);
    return request;
  }

  /** Forgets `token` (DNA answered 401 to it), unless a newer one has replaced it already. */
  invalidate(scope: string, token: string): void {
    if (this.cached.get(scope)?.token === token) this.cached.delete(scope);
  }

  private async fetchToken(scope: string): Promise<{ token: string } | Failure> {
    const { clientId, clientSecret, tokenUrl, refreshMarginMs } = this.credentials;
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      scope,
      client_id: clientId,
      client_secret: clientSecret,
    });
    const reply = await send(this.transport, tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
    });
    if (reply.kind === "http" && reply.status >= 200 && reply.status < 300) {
      const body = reply.body as { access_token?: unknown; expires_in?: unknown } | undefined;
      const token = body?.access_token;
      if (typeof token !== "string" || token === "") {
        return { retry: true, detail: "DNA token response without access_token" };
      }
      const lifeMs = typeof body?.expires_in === "number" ? body.expires_in * 1000 : 0;
      const margin = Math.min(refreshMarginMs, lifeMs / 2);
      this.cached.set(scope, { token, refreshAt: this.transport.now() + lifeMs - margin });
      return { token };
    }
    const failure = classify(reply);
    return failure.retry
      ? { ...failure, detail: `token: ${failure.detail}` }
      : { ...failure, reason: `token: ${failure.reason}` };
  }
}

/** Where and how to call DNA's API with a Bearer token. */
export interface ApiCall {
  readonly method: "GET" | "POST";
  readonly url: string;
  /** A JSON text, already serialized (amounts are spliced in exactly; see `createLink`). */
  readonly body?: string;
  readonly scope: string;
}

/**
 * Calls DNA's API with a token for `call.scope`. On a 401 the token is dropped and the call is made
 * once more with a fresh one; a second 401 is returned as it is (no loop).
 */
export async function authorized(tokens: TokenSource, transport: Transport, call: ApiCall): Promise<Reply> {
  let reply: Reply | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await tokens.get(call.scope);
    if (!("token" in token)) return { kind: "token", failure: token };
    const headers: Record<string, string> = {
      authorization: `Bearer ${token.token}`,
      accept: "application/json",
    };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    reply = await send(transport, call.url, {
      method: call.method,
      headers,
      ...(call.body === undefined ? {} : { body: call.body }),
    });
    if (reply.kind !== "http" || reply.status !== 401) return reply;
    tokens.invalidate(call.scope, token.token);
  }
  return reply!;
}

/** True for a 2xx reply. */
export function isOk(reply: Reply): reply is Extract<Reply, { kind: "http" }> {
  return reply.kind === "http" && reply.status >= 200 && reply.status < 300;
}
