import { type LookupAddress, lookup } from "node:dns";
import { BlockList, isIP } from "node:net";

/**
 * Which addresses endpoints may resolve to beyond the public internet. Server-side request forgery: a
 * merchant who registers `http://10.0.0.5/admin` must not make Paylink call into its own network, so by
 * default only public addresses are allowed.
 */
export interface AllowedAddresses {
  /** 127.0.0.0/8 and ::1 (a receiver on this machine: development and the demo). Default false. */
  readonly loopback?: boolean;
  /** Private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). Default false. */
  readonly private?: boolean;
}

/** The kind of an IP address, as far as an endpoint may resolve to it. */
export type AddressKind = "public" | "loopback" | "private" | "link-local" | "reserved";

function list(entries: readonly (readonly [string, number, "ipv4" | "ipv6"])[]): BlockList {
  const blocks = new BlockList();
  for (const [network, prefix, family] of entries) blocks.addSubnet(network, prefix, family);
  return blocks;
}

const LOOPBACK = list([
  ["127.0.0.0", 8, "ipv4"],
  ["::1", 128, "ipv6"],
]);
const PRIVATE = list([
  ["10.0.0.0", 8, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["100.64.0.0", 10, "ipv4"],
  ["fc00::", 7, "ipv6"],
]);
const LINK_LOCAL = list([
  ["169.254.0.0", 16, "ipv4"],
  ["fe80::", 10, "ipv6"],
]);
// Unspecified, "this network", documentation, benchmarking, multicast and reserved ranges: never a receiver.
const RESERVED = list([
  ["0.0.0.0", 8, "ipv4"],
  ["192.0.0.0", 24, "ipv4"],
  ["192.0.2.0", 24, "ipv4"],
  ["198.18.0.0", 15, "ipv4"],
  ["198.51.100.0", 24, "ipv4"],
  ["203.0.113.0", 24, "ipv4"],
  ["224.0.0.0", 3, "ipv4"],
  ["::", 128, "ipv6"],
  ["64:ff9b::", 96, "ipv6"],
  ["100::", 64, "ipv6"],
  ["2001:db8::", 32, "ipv6"],
  ["ff00::", 8, "ipv6"],
]);

/** The kind of `address` (an IPv4 or IPv6 literal; an IPv4-mapped IPv6 address counts as its IPv4). */
export function addressKind(address: string): AddressKind {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (isIP(ip) === 0) return "reserved";
  if (LOOPBACK.check(ip, family)) return "loopback";
  if (PRIVATE.check(ip, family)) return "private";
  if (LINK_LOCAL.check(ip, family)) return "link-local";
  if (RESERVED.check(ip, family)) return "reserved";
  return "public";
}

/** Whether `address` may be called under `allow`. Link-local (cloud metadata services) never is. */
export function isAllowedAddress(address: string, allow: AllowedAddresses = {}): boolean {
  const kind = addressKind(address);
  return (
    kind === "public" ||
    (kind === "loopback" && allow.loopback === true) ||
    (kind === "private" && allow.private === true)
  );
}

/** Every address `hostname` resolves to (the literal itself for an IP). */
export function resolve(hostname: string): Promise<string[]> {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return Promise.resolve([bare]);
  return new Promise((done, fail) =>
    lookup(bare, { all: true }, (error, addresses: LookupAddress[]) =>
      error ? fail(error) : done(addresses.map((a) => a.address)),
    ),
  );
}

/**
 * A `lookup` for `http.request` that connects only to allowed addresses: the check happens on the very
 * address the socket connects to, so a name that resolved to a public address when the endpoint was
 * registered and to a private one now (DNS rebinding) is still refused.
 */
export function guardedLookup(allow: AllowedAddresses) {
  return (
    hostname: string,
    options: object,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "");
      const allowed = addresses.filter((a) => isAllowedAddress(a.address, allow));
      if (allowed.length === 0) {
        const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to no allowed address`);
        refused.code = "EADDRNOTALLOWED";
        return callback(refused, "");
      }
      if ((options as { all?: boolean }).all === true) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
