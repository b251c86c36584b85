import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type AllowedAddresses, guardedLookup } from "./address.js";

/** What one POST to a receiver came to. */
export type SendResult =
  | { readonly ok: true; readonly status: number; readonly retryAfter: string | null }
  | { readonly ok: false; readonly error: string };

/** The most of a receiver's answer read (and thrown away): a receiver cannot make Paylink buffer more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to `url` with `headers`, connecting only to allowed addresses, and gives up after
 * `timeoutMs` in all (connecting, sending, and reading the status). Never rejects.
 */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  allow: AllowedAddresses,
): Promise<SendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ ok: false, error: "invalid URL" });
      return;
    }
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup(allow),
        // One connection per attempt: a receiver that is slow on one endpoint cannot hold others' sockets.
        agent: false,
      },
      (res) => {
        // The status decides; the body is read and thrown away (up to a limit), never waited for.
        const retryAfter = res.headers["retry-after"];
        finish({
          ok: true,
          status: res.statusCode ?? 0,
          retryAfter: typeof retryAfter === "string" ? retryAfter : null,
        });
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on("error", () => undefined);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, error: "timeout" });
    }, timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => {
      finish({
        ok: false,
        error: error.code === "EADDRNOTALLOWED" ? "address not allowed" : (error.code ?? "network error"),
      });
    });
    req.end(body);
  });
}
