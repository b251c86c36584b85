/** Replies as the transport builds, stores and replays them, and the one place they become `Response`s. */

/** A response as the transport stores and replays it. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A JSON reply; `headers` add to the ones every JSON reply gets. */
export const json = (status: number, body: string, headers?: Record<string, string>): Reply =>
  headers === undefined ? { status, body } : { status, body, headers };

/**
 * The header every response of the app carries: a browser must never read an API body (which echoes
 * client input) as HTML.
 */
export const NOSNIFF = { "x-content-type-options": "nosniff" } as const;

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  ...NOSNIFF,
};

/** A {@link Reply} as a fetch `Response`, with the headers of every JSON reply. */
export const toResponse = (reply: Reply): Response =>
  new Response(reply.body, {
    status: reply.status,
    headers: reply.headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...reply.headers },
  });
