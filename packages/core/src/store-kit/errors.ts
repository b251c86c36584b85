/**
 * The fixed message of every code of a store's errors. A message says in plain words what is wrong and
 * never carries the driver's text, which can hold host names, SQL or user data.
 */
export type StoreErrorMessages<Code extends string> = { readonly [C in Code]: string };

/** The parts of a {@link StoreError} besides its code. */
export interface StoreErrorOptions {
  /** The driver's error, kept for logs. */
  readonly cause?: unknown;
  /**
   * Facts the store itself knows and the operator needs (a configured timeout, a schema version),
   * appended to the message in parentheses. Never the driver's text: that belongs in `cause`.
   */
  readonly detail?: string;
}

/**
 * The shape of every error a SQL store rejects with: a stable `code` to branch on, a message fixed by
 * that code and prefixed with the store's name, and the driver's error as `cause`. Core turns any
 * rejection of a store into `store_unavailable`, keeping this error as its cause. A store declares its
 * codes and their messages once and subclasses this with its own `name`.
 * @typeParam Code - The store's codes.
 */
export class StoreError<Code extends string = string> extends Error {
  override readonly name: string = "StoreError";
  /** Why the call failed; stable across releases, unlike the message. */
  readonly code: Code;

  /**
   * @param store - The store's name, the message's prefix ("SQLite store").
   * @param messages - The store's fixed message of each code.
   */
  constructor(
    store: string,
    messages: StoreErrorMessages<Code>,
    code: Code,
    options: StoreErrorOptions = {},
  ) {
    const detail = options.detail === undefined ? "" : ` (${options.detail})`;
    super(
      `${store}: ${messages[code]}${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
  }
}
