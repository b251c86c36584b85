import { randomFillSync } from "node:crypto";

/** Makes ids ({@link randomIds} by default). Injectable so tests can make them deterministic. */
export interface IdGenerator {
  /** A new payment id. A collision is not an error: `create` retries with a new id. */
  paymentId(): string;
  /** A new domain-event id. It must be unique: consumers deduplicate events by it. */
  eventId(): string;
}

// Time first, so ids made close in time sort close together: a database index on them is appended to at
// its right edge instead of at a random page per write, which keeps group commits small (see
// docs/benchmarks.md). The time is 48 bits in an alphabet that sorts in ASCII order. The random part
// keeps ids unguessable. Random bytes come from the operating system's CSPRNG in blocks of 256 ids, each
// byte used once: one system call per block instead of one per id.
const SORTABLE = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const RANDOM_BYTES = 12;
const pool = Buffer.alloc(RANDOM_BYTES * 256);
let offset = pool.length;

function timePart(ms: number): string {
  let out = "";
  for (let i = 7, t = ms; i >= 0; i--, t = Math.floor(t / 64)) out = SORTABLE[t % 64] + out;
  return out;
}

const id24 = () => {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += RANDOM_BYTES;
  return timePart(Date.now()) + pool.toString("base64url", start, offset);
};

/**
 * The default ids: `pay_` / `evt_` plus 24 URL-safe characters: 8 for the creation millisecond (so ids
 * sort by creation time), then 16 random ones (96 bits from `node:crypto`).
 */
export const randomIds: IdGenerator = {
  paymentId: () => `pay_${id24()}`,
  eventId: () => `evt_${id24()}`,
};

/** Where commands read the time. Injectable so tests can move time. */
export interface Clock {
  now(): Date;
}

/** The clock commands use when given none: `new Date()` at every call. */
export const systemClock: Clock = { now: () => new Date() };
