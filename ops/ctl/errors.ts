/**
 * How ctl fails: one line on stderr and an exit status, 1 when something
 * could not be reached or refused, 2 for a bad command line.
 *
 * @module
 */

/** A failure ctl reports as one line; `exitCode` 1 or 2 (3, a partial answer, is not a failure: see `CommandResult`). */
export class CtlError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "CtlError";
    this.exitCode = exitCode;
  }
}

/** A bad command line (unknown command or flag, bad value): exit 2 with usage. */
export class CtlUsageError extends CtlError {
  constructor(message: string) {
    super(message, 2);
    this.name = "CtlUsageError";
  }
}

/** The message of any thrown value, on one line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ");
}
