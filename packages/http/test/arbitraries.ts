import fc from "fast-check";
import { KEYS } from "./helpers.js";

/** One request, as plain data, that `toRequest` turns into a fetch `Request`. */
export interface RawRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: string | undefined;
}

const hostileIds = fc.oneof(
  fc.constantFrom(
    "%00",
    "pay_%00",
    "x".repeat(5000),
    "1' OR '1'='1",
    "1;DROP TABLE payments;--",
    "%27%20OR%201%3D1--",
    "..%2F..%2Fetc%2Fpasswd",
    "%E0%A4%A",
    "%",
    "pay_0001%0A",
    "%F0%9F%92%B3",
    "pay_0001?x=1",
    "pay_0001#frag",
    "__proto__",
    "constructor",
    "null",
    "pay_0001",
    "pay_0003",
    "pay_0023",
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
  fc.integer({ min: 256, max: 6000 }).map((n) => "a".repeat(n)),
);

const templates = [
  "/payments/{id}/cancel",
  "/payments/{id}",
  "/payments",
  "/v1/payment-links/{id}/cancellation",
  "/v1/payment-links/{id}",
  "/v1/payment-links",
  "/webhook_endpoints",
  "/webhook_endpoints/{id}",
  "/webhook_endpoints/{id}/deliveries",
  "/webhook_endpoints/{id}/deliveries/{id}/retry",
  "/events",
  "/openapi.json",
  "/docs",
  "/v1",
  "/",
];

const query = fc.oneof(
  fc.constant(""),
  fc.constantFrom(
    "?limit=0",
    "?limit=-1",
    "?limit=1e3",
    "?limit=abc",
    "?limit=",
    "?starting_after=%00",
    "?a=1&a=2",
  ),
  fc
    .array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })), { maxLength: 3 })
    .map((pairs) =>
      pairs.length === 0
        ? ""
        : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`,
    ),
);

const path = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom("/payments", "/v1/payment-links", "/webhook_endpoints", "/events"), query)
      .map(([p, q]) => p + q),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom("/payments/{id}/cancel", "/v1/payment-links/{id}/cancellation", "/payments/{id}"),
        fc.constantFrom("pay_0001", "pay_0003", "pay_0006", "pay_0013", "pay_0023"),
      )
      .map(([t, id]) => t.replace("{id}", id)),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...templates), hostileIds, query)
      .map(([t, id, q]) => t.replaceAll("{id}", id) + q),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom("payments", "v1", "payment-links", "cancel", "cancellation", ".."),
          hostileIds,
        ),
        {
          minLength: 1,
          maxLength: 5,
        },
      )
      .map((segments) => `/${segments.join("/")}`),
  },
);

const keyHeaders = fc.oneof(
  fc.constant<[string, string][]>([]),
  { weight: 4, arbitrary: fc.constant<[string, string][]>([["x-api-key", KEYS.rw]]) },
  { weight: 4, arbitrary: fc.constant<[string, string][]>([["authorization", `Bearer ${KEYS.rw}`]]) },
  fc.constant<[string, string][]>([["authorization", `Bearer ${KEYS.ro}`]]),
  fc.constant<[string, string][]>([["x-api-key", KEYS.other]]),
  fc.string({ maxLength: 30 }).map((k): [string, string][] => [["x-api-key", k]]),
  fc.string({ maxLength: 30 }).map((k): [string, string][] => [["authorization", k]]),
  fc.constant<[string, string][]>([
    ["authorization", `Bearer ${KEYS.rw}`],
    ["x-api-key", KEYS.ro],
  ]),
);

const contentType = fc.oneof(
  fc.constant<[string, string][]>([]),
  { weight: 4, arbitrary: fc.constant<[string, string][]>([["content-type", "application/json"]]) },
  fc
    .constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=latin1",
      "APPLICATION/JSON",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      ";;;",
    )
    .map((v): [string, string][] => [["content-type", v]]),
);

const idempotency = fc.oneof(
  { weight: 3, arbitrary: fc.constant<[string, string][]>([]) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 300 }).map((k): [string, string][] => [["idempotency-key", k]]),
  },
);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const nearlyValid = fc.record(
  {
    customerId: fc.oneof(fc.string({ maxLength: 300 }), jsonValue),
    provider: fc.oneof(fc.string(), jsonValue),
    amountSubtotal: fc.oneof(fc.double(), fc.integer(), fc.constant(2 ** 53), fc.string(), jsonValue),
    taxAmount: fc.oneof(fc.double(), fc.integer()),
    currency: fc.oneof(fc.constantFrom("GBP", "gbp", "XXX", "JPY", ""), fc.string({ maxLength: 4 })),
    amount: fc.oneof(fc.double(), fc.string({ maxLength: 20 }), fc.constantFrom("1.001", "-1", "1e999", 0.1)),
    terminalId: fc.string({ maxLength: 300 }),
    customerName: fc.string({ maxLength: 300 }),
    expirationDate: fc.oneof(fc.string(), fc.constantFrom("2020-01-01T00:00:00Z", "2026-13-01T00:00:00Z")),
    expiresAt: fc.oneof(fc.string(), fc.constant(null), fc.constant("2019-01-01T00:00:00Z")),
    metadata: fc.oneof(jsonValue, fc.dictionary(fc.string({ maxLength: 50 }), jsonValue, { maxKeys: 60 })),
    url: fc.oneof(
      fc.webUrl(),
      fc.constantFrom(
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "http://169.254.169.254/",
        "https://u:p@hooks.example.com/",
        "https://hooks.example.com/in",
      ),
      jsonValue,
    ),
    events: fc.oneof(
      jsonValue,
      fc.array(fc.constantFrom("payment_link.paid", "charge.created", "nope", ""), { maxLength: 4 }),
    ),
    extra: jsonValue,
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(""),
  fc.constant("{}"),
  jsonValue.map((v) => JSON.stringify(v)),
  nearlyValid.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    "{",
    "null",
    "[]",
    '{"__proto__":{"admin":true}}',
    '{"a":1,"a":2}',
    "\uFEFF{}",
    `${"[".repeat(5000)}${"]".repeat(5000)}`,
    `{"description":"${"x".repeat(70_000)}"}`,
  ),
);

/** Random requests: methods, paths (hostile ids), headers (keys, content types, idempotency keys), bodies. */
export const requestArb: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constant("POST") },
      { weight: 2, arbitrary: fc.constant("GET") },
      { weight: 1, arbitrary: fc.constantFrom("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS") },
    ),
    path,
    key: keyHeaders,
    type: contentType,
    idem: idempotency,
    body,
  })
  .map(({ method, path, key, type, idem, body }) => ({
    method,
    path,
    headers: [...key, ...type, ...idem],
    body: method === "GET" || method === "HEAD" ? undefined : body,
  }));

/** A fetch `Request`, or `undefined` when the URL or a header is not even expressible. */
export function toRequest(raw: RawRequest, base: string): Request | undefined {
  try {
    const headers = new Headers();
    for (const [name, value] of raw.headers) headers.append(name, value);
    return new Request(`${base}${raw.path}`, { method: raw.method, headers, body: raw.body });
  } catch {
    return undefined;
  }
}
