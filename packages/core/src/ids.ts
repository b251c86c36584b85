import { randomBytes } from "node:crypto";

/** Makes ids. Injectable so tests can make them deterministic. */
export interface IdGenerator {
  /** A new payment id, e.g. `pay_` + 24 URL-safe characters. */
  paymentId(): string;
  /** A new domain-event id, e.g. `evt_` + 24 URL-safe characters. */
  eventId(): string;
}

/** 18 random bytes are exactly 24 base64url characters: 144 bits, URL-safe. */
const random24 = () => randomBytes(18).toString("base64url");

/** The default ids: `pay_` / `evt_` plus 24 URL-safe characters from `node:crypto`. */
export const randomIds: IdGenerator = {
  paymentId: () => `pay_${random24()}`,
  eventId: () => `evt_${random24()}`,
};

/** A clock. Injectable so tests can move time. */
export interface Clock {
  now(): Date;
}

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };
