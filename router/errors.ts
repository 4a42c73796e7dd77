/**
 * Errors only the push API gives, on top of those of `shared/errors.ts`. Each
 * is an {@link HttpError}, so `app.onError` maps it to its status and code.
 *
 * @module
 */
import { HttpError } from "../shared/errors.ts";

/** The pushed `data` serializes to more than `maxMessageBytes` (413 `message_too_large`). */
export class MessageTooLargeError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("message_too_large", 413, message, options);
    this.name = "MessageTooLargeError";
  }
}

/** Another request is still pushing this id (409 `push_in_progress`). */
export class PushInProgressError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("push_in_progress", 409, message, options);
    this.name = "PushInProgressError";
  }
}

/** The history backend failed; nothing was delivered (503 `history_unavailable`). */
export class HistoryUnavailableError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("history_unavailable", 503, message, options);
    this.name = "HistoryUnavailableError";
  }
}
