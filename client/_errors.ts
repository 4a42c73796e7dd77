/**
 * The errors the client throws or rejects with, and the one a token
 * function throws to stop it.
 *
 * @module
 */
import type { WsgwErrorCode } from "./_types.ts";

/**
 * Thrown by a token function to stop the client for good (the user logged
 * out, the account is gone): the client closes with an `error` event of code
 * `token_stopped` and does not reconnect.
 */
export class WsgwStopError extends Error {
  constructor(message = "the token function stopped the client", options?: {
    cause?: unknown;
  }) {
    super(message, options);
    this.name = "WsgwStopError";
  }
}

/** The token function did not settle within `tokenTimeout`. */
export class TokenTimeoutError extends Error {
  constructor(ms: number) {
    super(`the token function did not answer within ${ms} ms`);
    this.name = "TokenTimeoutError";
  }
}

/** Why the first-connect promise of `connect()` rejected. */
export class WsgwClientError extends Error {
  /** The `error` code that stopped the client, or `closed` after `close()`. */
  readonly code: WsgwErrorCode | "closed";
  constructor(code: WsgwErrorCode | "closed", message: string) {
    super(message);
    this.name = "WsgwClientError";
    this.code = code;
  }
}
