/**
 * Typed errors of wsgw. Every error that can reach a user carries a stable
 * `code` and the HTTP `status` it maps to; `app.onError` in the router turns
 * them into `{"error": {"code", "message"}}` and anything else into a 500.
 *
 * @module
 */

/**
 * Base class of the errors a user may see: a stable code and the HTTP
 * status it answers with. (The browser client's `WsgwError` is another
 * thing: the detail of its `error` event.)
 */
export class HttpError extends Error {
  /** Stable machine-readable code, e.g. `bad_request`. */
  readonly code: string;
  /** HTTP status this error maps to. */
  readonly status: number;

  constructor(
    code: string,
    status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "HttpError";
    this.code = code;
    this.status = status;
  }
}

/** The request is malformed: bad JSON, wrong schema, bad parameter. */
export class BadRequestError extends HttpError {
  constructor(message: string, options?: ErrorOptions, code = "bad_request") {
    super(code, 400, message, options);
    this.name = "BadRequestError";
  }
}

/** No credentials, or credentials that cannot be verified. */
export class UnauthorizedError extends HttpError {
  constructor(message: string, options?: ErrorOptions, code = "unauthorized") {
    super(code, 401, message, options);
    this.name = "UnauthorizedError";
  }
}

/** Credentials were given and are not good for this request. */
export class ForbiddenError extends HttpError {
  constructor(message: string, options?: ErrorOptions, code = "forbidden") {
    super(code, 403, message, options);
    this.name = "ForbiddenError";
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("not_found", 404, message, options);
    this.name = "NotFoundError";
  }
}

/** The request body is larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("payload_too_large", 413, message, options);
    this.name = "PayloadTooLargeError";
  }
}

/** Too many requests from one source; retry after `retryAfter` seconds (429). */
export class RateLimitedError extends HttpError {
  /** Seconds the caller should wait. */
  readonly retryAfter: number;

  constructor(message: string, retryAfter = 1, options?: ErrorOptions) {
    super("rate_limited", 429, message, options);
    this.name = "RateLimitedError";
    this.retryAfter = retryAfter;
  }
}

/**
 * This process is over a budget of its own (e.g. a gateway's new
 * connections per second in a reconnect storm): try again after
 * `retryAfter` seconds, or elsewhere.
 */
export class OverloadedError extends HttpError {
  /** Seconds the caller should wait. */
  readonly retryAfter: number;

  constructor(message: string, retryAfter = 1, options?: ErrorOptions) {
    super("overloaded", 503, message, options);
    this.name = "OverloadedError";
    this.retryAfter = retryAfter;
  }
}

/** A backend (registry, history, node) cannot serve the request right now. */
export class UnavailableError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("unavailable", 503, message, options);
    this.name = "UnavailableError";
  }
}

/** The history store refuses writes: Redis reached its `maxmemory` (noeviction). */
export class HistoryFullError extends UnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HistoryFullError";
  }
}

/**
 * An append stored the message for some users and failed for the others (a
 * Redis Cluster master down or hung while the other masters answer; a Redis
 * that filled up within one append). `appended` holds, in the order of the
 * users, each stored user's seq and epoch, and `undefined` for the others.
 * An append that stored nothing throws a plain {@link UnavailableError}.
 */
export class PartialAppendError extends UnavailableError {
  /** Per user: where its copy sits, or `undefined` when it was not stored. */
  readonly appended: readonly ({ seq: number; epoch: string } | undefined)[];

  constructor(
    message: string,
    appended: readonly ({ seq: number; epoch: string } | undefined)[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PartialAppendError";
    this.appended = appended;
  }
}

/** A configuration value is missing or malformed; names the variable. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;

  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
    this.variable = variable;
  }
}
