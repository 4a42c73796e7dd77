// deno-lint-ignore-file no-console
/**
 * Structured logging: one JSON line per event on stderr. We log state changes
 * (registered, lease lost, drain started, backend down/up), never each message;
 * per-message facts are metrics. Never pass tokens, API keys or message bodies.
 *
 * @module
 */

/** Severity of a log event, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Fields attached to one event. */
export type LogFields = Record<string, unknown>;

/** The logging seam: tests pass a recording `write`, production stderr. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every event (e.g. `{ nodeId }`). */
  with(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export type LoggerOptions = {
  /** @default "info" */
  level?: LogLevel;
  /** Receives each formatted line. @default console.error */
  write?: (line: string) => void;
  /** Fields on every event. */
  fields?: LogFields;
};

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => console.error(line));
  const base = options.fields ?? {};
  const emit = (level: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const record: LogFields = {
      ts: new Date().toISOString(),
      level,
      event,
      ...base,
    };
    for (const [key, value] of Object.entries(fields ?? {})) {
      record[key] = value instanceof Error ? describeError(value) : value;
    }
    write(JSON.stringify(record));
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    with: (fields) =>
      createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });

function describeError(error: Error): LogFields {
  return {
    name: error.name,
    message: error.message,
    ...(error.cause instanceof Error
      ? { cause: describeError(error.cause) }
      : {}),
  };
}
