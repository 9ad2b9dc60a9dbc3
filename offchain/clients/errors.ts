/**
 * The one error type that protocol clients throw for a problem the user can fix (a wrong
 * network, an unknown model, a fee too low...). Its message is a complete sentence meant to be
 * shown as is; tasks turn it into a Hardhat error without a stack trace.
 */
export class VeritensorError extends Error {
  override readonly name = "VeritensorError";

  /** `cause` keeps the original error (a revert, an RPC failure) for --show-stack-traces. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  static is(e: unknown): e is VeritensorError {
    return e instanceof VeritensorError;
  }
}

/** Throws a VeritensorError with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new VeritensorError(typeof message === "string" ? message : message());
}
