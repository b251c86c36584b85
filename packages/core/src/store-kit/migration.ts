/**
 * One step of a SQL store's schema: applied at most once, in `version` order, in one transaction with the
 * row that records it, so a crash never leaves half a step. Never edit a released migration: add a new
 * version, since databases in the field have recorded the old one as applied.
 * @typeParam Context - What the statements are built from (the PostgreSQL store passes its quoted schema
 *   name); nothing by default.
 */
export interface Migration<Context = void> {
  /** Strictly increasing from 1; recorded in the store's migrations table. */
  readonly version: number;
  /** A short description, recorded next to the version for operators. */
  readonly name: string;
  /** The statements of the step, run one by one, in order. */
  readonly statements: (context: Context) => readonly string[];
}
