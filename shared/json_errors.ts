/**
 * The JSON error answers of every Hono app (router, demo): `{"error":
 * {"code", "message"}}` with the status of an {@link HttpError}, a 400 for
 * Hono's own client errors, and a bare 500 `internal` for anything else, so
 * no internal detail reaches the caller.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { HttpError, RateLimitedError } from "./errors.ts";

/**
 * Told of the errors worth a log line: `expected` for an {@link HttpError} of
 * status 500 and up (a backend is down), otherwise an unexpected throw.
 */
export type ErrorReport<C extends Context> = (
  error: Error,
  c: C,
  expected: boolean,
) => void;

/** An `app.onError` handler answering JSON errors and reporting the 5xx. */
export function jsonErrorHandler<C extends Context>(
  report: ErrorReport<C>,
): (error: Error, c: C) => Response {
  return (error, c) => {
    if (error instanceof HttpError) {
      if (error.status >= 500) report(error, c, true);
      if (error instanceof RateLimitedError) {
        c.header("Retry-After", String(error.retryAfter));
      }
      return c.json(
        { error: { code: error.code, message: error.message } },
        error.status as 400,
      );
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({
        error: { code: "bad_request", message: error.message || "bad request" },
      }, error.status);
    }
    report(error, c, false);
    return c.json(
      { error: { code: "internal", message: "internal error" } },
      500,
    );
  };
}

/** An `app.notFound` handler: 404 `not_found` naming the method and path. */
export function jsonNotFound(c: Context): Response {
  return c.json({
    error: {
      code: "not_found",
      message: `no route for ${c.req.method} ${c.req.path}`,
    },
  }, 404);
}
