import { expirableStatuses } from "../decision.js";
import type { Status } from "../lifecycle.js";

/**
 * The statuses `findDue` looks for: a link in one of them whose `expiresAt` has come is due to expire.
 * Read off the lifecycle machine, so that no store restates the rule. Charges never expire.
 */
export const DUE_STATUSES: readonly Status[] = expirableStatuses("link");

/**
 * How many rows a port method's `limit` asks for, with one meaning in every store: a whole number from 0
 * to `Number.MAX_SAFE_INTEGER`, fit for a SQL `LIMIT` as for `slice`. A fraction is truncated; zero, a
 * negative number and `NaN` ask for no row; `Infinity` asks for every row. Core only ever passes positive
 * integers; the rest is what a direct caller of a store gets.
 */
export function rowLimit(limit: number): number {
  if (Number.isNaN(limit) || limit <= 0) return 0;
  return Math.min(Math.trunc(limit), Number.MAX_SAFE_INTEGER);
}
