// The SQL provider's errors (docs/providers.md, Errors). Class names are what a caller sees as
// `exc_type`, so they are never renamed.
import { NamekoError, namekoError } from "../../src/index";

/** The database named by `DB_URIS` cannot be reached when the service starts. */
export class DatabaseUnavailable extends NamekoError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * COMMIT failed (a deferred constraint, a serialization failure, a lost connection) or found the
 * transaction already aborted by an earlier error: nothing of it was written. Registered, so a
 * TypeScript caller gets this class back; `code` is PostgreSQL's SQLSTATE when there is one.
 */
@namekoError("cliffracer.sql.CommitFailed")
export class CommitFailed extends NamekoError {
  readonly code?: string;

  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}
