import type { z } from "zod";
import { type HttpError, httpError, type Issue } from "./errors.js";

/** The raw body of a request, read with a size limit. `text` is "" for no body. */
export type RawBody = { ok: true; text: string } | { ok: false; error: HttpError };

/** No body. */
const EMPTY: RawBody = Object.freeze({ ok: true as const, text: "" });

const tooLarge = (limit: number) =>
  httpError("body_too_large", `The request body is larger than ${limit} bytes.`);

/**
 * Reads the body as UTF-8 text, refusing more than `limit` bytes (by `Content-Length` before reading,
 * and by counting while reading for chunked bodies, which stops the upload early).
 *
 * `framedByHeaders` says the request came over HTTP/1.x (e.g. from `@hono/node-server`), where a body
 * exists only with `Content-Length` or `Transfer-Encoding` and never exceeds its `Content-Length`: then a
 * bodiless POST is not read at all and a sized body is read in one call, which spares the adapter from
 * building a stream. Otherwise (fetch `Request`s of any origin) the body stream is read and counted.
 * Answers synchronously when nothing needs reading (no body, or a header that refuses it).
 */
export function readBody(
  request: Request,
  limit: number,
  framedByHeaders = false,
): RawBody | Promise<RawBody> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d{1,16}$/.test(declared.trim())) {
      return { ok: false, error: httpError("body_invalid", "The Content-Length header is not a number.") };
    }
    const length = Number(declared.trim());
    if (length > limit) return { ok: false, error: tooLarge(limit) };
    if (length === 0) return EMPTY;
    return framedByHeaders ? readSized(request, limit) : readStreamed(request, limit);
  }
  if (framedByHeaders && request.headers.get("transfer-encoding") === null) return EMPTY;
  return readStreamed(request, limit);
}

/** A body of known size over HTTP/1.x, read in one call. */
async function readSized(request: Request, limit: number): Promise<RawBody> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await request.arrayBuffer());
  } catch {
    return { ok: false, error: httpError("body_invalid", "The request body could not be read.") };
  }
  if (bytes.byteLength > limit) return { ok: false, error: tooLarge(limit) };
  return decode(bytes);
}

/** A body read from its stream, counting. */
async function readStreamed(request: Request, limit: number): Promise<RawBody> {
  const streamed = await readStream(request.body, limit);
  if (!(streamed instanceof Uint8Array)) return { ok: false, error: streamed };
  return decode(streamed);
}

function decode(bytes: Uint8Array): RawBody {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { ok: false, error: httpError("body_invalid", "The request body is not valid UTF-8.") };
  }
}

/** Reads a body stream, stopping (and cancelling it) as soon as it passes `limit` bytes. */
async function readStream(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | HttpError> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        return tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch {
    return httpError("body_invalid", "The request body could not be read.");
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** True when `Content-Type` is `application/json` (any case, optional parameters such as charset). */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const [type = "", ...params] = value.split(";");
  if (type.trim().toLowerCase() !== "application/json") return false;
  for (const param of params) {
    const [name = "", raw = ""] = param.split("=");
    if (name.trim().toLowerCase() === "charset") {
      const charset = raw.trim().replace(/^"|"$/g, "").toLowerCase();
      if (charset !== "utf-8" && charset !== "utf8") return false;
    }
  }
  return true;
}

/**
 * Parses a JSON object body. `required: false` accepts an empty body as `{}`. Any non-empty body must
 * come with `Content-Type: application/json` (415 otherwise) and be a JSON object in which no object
 * repeats a key (400 `body_invalid` otherwise).
 */
export function parseJsonObject(
  text: string,
  contentType: string | null,
  required: boolean,
): { ok: true; value: Record<string, unknown> } | { ok: false; error: HttpError } {
  if (text.trim() === "") {
    if (!required) return { ok: true, value: {} };
    return { ok: false, error: httpError("body_invalid", "A JSON object body is required.") };
  }
  if (!isJsonContentType(contentType)) {
    return {
      ok: false,
      error: httpError("content_type_unsupported", "Send the body as `Content-Type: application/json`.", {
        param: "Content-Type",
      }),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: httpError("body_invalid", "The request body is not valid JSON.") };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: httpError("body_invalid", "The request body must be a JSON object.") };
  }
  // JSON.parse keeps the last of two equal keys, while a filter or log in front of the server may read the
  // first: a body that two readers can see differently is refused.
  if (hasDuplicateKey(text, value)) {
    return {
      ok: false,
      error: httpError("body_invalid", "The request body repeats a key in one object; send each key once."),
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * True when some object of the JSON text `text` has the same key twice (`"a"` and `"\u0061"` are the same
 * key). `parsed` must be `JSON.parse(text)`.
 *
 * Neither `JSON.parse` nor a reviver can see a duplicate, but each one costs the parsed tree a property:
 * every `:` outside a string separates one key from its value, so the text has duplicates exactly when
 * it has more such colons than the parsed tree has own properties. Comparing two counts lets
 * `JSON.parse` do the decoding of escapes, and needs no set of keys.
 */
export function hasDuplicateKey(text: string, parsed: unknown): boolean {
  const keys = keysInText(text);
  // One key (or none) cannot repeat: then the parsed tree need not be walked.
  return keys > 1 && keys !== propertiesOf(parsed);
}

/** The number of `:` outside strings of valid JSON text: one per key of every object. */
function keysInText(text: string): number {
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) keys++;
    else if (c === 34 /* " */) {
      // Jump to the closing quote with indexOf (fast over long strings): the first quote preceded by an
      // even number of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return keys; // unreachable for valid JSON
        let slashes = 0;
        while (text.charCodeAt(i - 1 - slashes) === 92 /* \ */) slashes++;
        if (slashes % 2 === 0) break;
      }
    }
  }
  return keys;
}

/** Own properties of every object in a parsed JSON value, counted without recursion (deep nesting is legal). */
function propertiesOf(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== "object" || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item) if (typeof element === "object" && element !== null) pending.push(element);
      continue;
    }
    // Object.keys, not for…in: an enumerable property added to Object.prototype must not be counted.
    const names = Object.keys(item);
    count += names.length;
    for (const name of names) {
      const child = (item as Record<string, unknown>)[name];
      if (typeof child === "object" && child !== null) pending.push(child);
    }
  }
  return count;
}

/** Zod issues as {@link Issue}s, one per unknown key too. */
export function issuesOf(error: z.ZodError, rename: (field: string) => string = (f) => f): Issue[] {
  const out: Issue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ param: rename(base ? `${base}.${key}` : key), message: "is not a known field" });
      }
      continue;
    }
    const message =
      issue.code === "invalid_type" && /received undefined$/.test(issue.message)
        ? "is required"
        : issue.message;
    out.push({ param: base === "" ? null : rename(base), message });
  }
  return out;
}
