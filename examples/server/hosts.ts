/**
 * Which hosts the demo server answers, against DNS rebinding: a page on `http://rebind.attacker.example`
 * whose name the attacker re-points at 127.0.0.1 reaches the demo from the victim's own browser, as the
 * same origin as the attacker's page, so neither CORS nor an `Origin` compared with `Host` stops it. Only
 * the `Host` header gives it away, so every request is checked against a list of names, and so is the
 * `Origin` of every form post.
 *
 * Always allowed: the loopback names and addresses — `localhost` and `*.localhost` (RFC 6761: they
 * resolve to loopback only), `127.0.0.0/8` and `[::1]` — with any port. `PAYLINK_ALLOWED_HOSTS` (see
 * {@link parseAllowedHosts}) adds more, as Vite's and webpack's `allowedHosts` do.
 */

/** The environment variable `main.ts` reads the extra allowed hosts from. */
export const ALLOWED_HOSTS_ENV = "PAYLINK_ALLOWED_HOSTS";

/**
 * Loopback, always allowed (as the banner writes it): these names mean this machine on every machine,
 * so no DNS answer an attacker controls can make a browser send them for another address.
 */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "*.localhost", "127.x.x.x", "[::1]"];

/** `name`, `name:port`, `[v6]` or `[v6]:port`: the shapes a `Host` header (or an origin's host) takes. */
const HOST_SHAPE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::\d{1,5})?$/;
/** The same without the port (a hostname of the allowed list); a leading dot means "and subdomains". */
const NAME_SHAPE = /^\.?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$/;
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** A normalized hostname: dot-separated labels, none empty (`a..b` and `.a` are not names), or `[v6]`. */
const NORMALIZED = /^(?:\[[0-9a-f:.]+\]|(?:[a-z0-9_-]+\.)*[a-z0-9_-]+)$/;

/**
 * The hostname a `Host` value names, normalized by the WHATWG URL parser (lowercase, IPv4 in dotted
 * form, IPv6 compressed and in brackets, one trailing dot dropped), or `undefined` when it is not a
 * valid host (empty, a list, userinfo, a path, an empty label, a port above 65535…).
 */
export function hostnameOf(host: string): string | undefined {
  if (!HOST_SHAPE.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}/`);
  } catch {
    return undefined;
  }
  // `localhost.` and `localhost` are the same name: a fully qualified name must not slip past the list.
  const hostname = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
  return NORMALIZED.test(hostname) ? hostname : undefined;
}

/**
 * Reads `PAYLINK_ALLOWED_HOSTS`: comma-separated hostnames (no scheme, no port), spaces ignored. A name
 * with a leading dot (`.example.com`) allows that name and every subdomain of it. Returns them
 * normalized (as {@link hostnameOf} does). Throws an `Error` naming the first entry that is not a
 * hostname, so a typo stops the server at start rather than leaving the name refused.
 */
export function parseAllowedHosts(value: string | undefined): string[] {
  const names: string[] = [];
  for (const raw of (value ?? "").split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const dot = entry.startsWith(".");
    const name = NAME_SHAPE.test(entry) ? hostnameOf(dot ? entry.slice(1) : entry) : undefined;
    if (name === undefined || (dot && name.startsWith("["))) {
      throw new Error(
        `${ALLOWED_HOSTS_ENV}: "${entry}" is not a hostname. Give comma-separated names without scheme or port, e.g. "demo.example.com,.example.org".`,
      );
    }
    names.push(dot ? `.${name}` : name);
  }
  return names;
}

/** True for a normalized hostname (see {@link hostnameOf}) that names this machine's loopback. */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    hostname === "[::1]" ||
    IPV4_LOOPBACK.test(hostname)
  );
}

/** The hosts a server answers; build one with {@link allowedHosts}. */
export interface AllowedHosts {
  /** The names allowed besides loopback, normalized (a leading dot: the name and its subdomains). */
  readonly extra: readonly string[];
  /** True when a normalized hostname is loopback or matches {@link AllowedHosts.extra}. */
  allowsHostname(hostname: string): boolean;
  /**
   * True when a `Host` header value (`name[:port]`, any port) names an allowed host. `null` (no `Host`
   * header) and malformed values are refused.
   */
  allowsHost(host: string | null): boolean;
  /**
   * True when an `Origin` header value is an `http:` or `https:` origin on an allowed host (any port).
   * `null` (the opaque origin) and anything else are refused.
   */
  allowsOrigin(origin: string): boolean;
}

/**
 * The allowed hosts: loopback plus `extra` (already parsed by {@link parseAllowedHosts}, or plain
 * hostnames, which are normalized here). Throws as `parseAllowedHosts` does on an entry that is not a
 * hostname.
 */
export function allowedHosts(extra: readonly string[] = []): AllowedHosts {
  const names = parseAllowedHosts(extra.join(","));
  const exact = new Set(names.filter((name) => !name.startsWith(".")));
  const suffixes = names.filter((name) => name.startsWith("."));
  const allowsHostname = (hostname: string) =>
    isLoopback(hostname) ||
    exact.has(hostname) ||
    suffixes.some((suffix) => hostname === suffix.slice(1) || hostname.endsWith(suffix));
  return {
    extra: names,
    allowsHostname,
    allowsHost(host) {
      if (host === null) return false;
      const hostname = hostnameOf(host);
      return hostname !== undefined && allowsHostname(hostname);
    },
    allowsOrigin(origin) {
      // An origin is exactly `scheme://host[:port]`; anything else (a path, `null`, userinfo) is not one.
      const match = /^(https?):\/\/([^/?#@]+)$/i.exec(origin);
      if (match === null) return false;
      const hostname = hostnameOf(match[2]!);
      return hostname !== undefined && allowsHostname(hostname);
    },
  };
}

const refusal = (status: 400 | 421, text: string) =>
  new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });

/**
 * The answer to a request for a host this server does not answer, or `undefined` to serve it. Run it
 * before anything else (pages and API alike), so nothing is rendered or changed for another host:
 *
 * - no `Host` header, or one that is not a host: 400 (RFC 9112 §3.2);
 * - a `Host`, or an absolute request target (`GET http://other/… HTTP/1.1`), naming a host that is not
 *   allowed: 421 Misdirected Request.
 *
 * The body is a fixed text: the refused name is never echoed back.
 */
export function refuseOtherHosts(hosts: AllowedHosts, request: Request): Response | undefined {
  const header = request.headers.get("host");
  const hostname = header === null ? undefined : hostnameOf(header);
  if (hostname === undefined) {
    return refusal(400, "Bad Request: the Host header is missing or is not a host name.");
  }
  // With an absolute target the URL's host, not `Host`, is the one HTTP says is meant: both must pass.
  const target = hostnameOf(new URL(request.url).host);
  if (!hosts.allowsHostname(hostname) || target === undefined || !hosts.allowsHostname(target)) {
    return refusal(
      421,
      `Misdirected Request: this server answers only the hosts it is served on (loopback, and the names in ${ALLOWED_HOSTS_ENV}).`,
    );
  }
  return undefined;
}
