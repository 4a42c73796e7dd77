/**
 * What `deno task cluster` prints: each child's lines prefixed with its name
 * (`[gw-1] …`), colored on a terminal, JSON log lines of gateways and
 * routers shortened to `time LEVEL event key=value…`; the launcher's own
 * messages as `[cluster] …`, and alarms (a child died) in bold red.
 *
 * @module
 */

/** Options of {@link createPrinter}. */
export type PrinterOptions = {
  /** ANSI colors. @default stdout is a terminal and NO_COLOR is unset */
  color?: boolean;
  /** Print JSON log lines as they are. @default false */
  raw?: boolean;
  /** @default writes to stdout */
  write?: (text: string) => void;
};

/** Prints lines of the cluster's processes and of the launcher. */
export type Printer = {
  line(name: string, line: string): void;
  info(message: string): void;
  alarm(message: string): void;
  /** Text as it is, e.g. the usage. */
  text(text: string): void;
};

const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
const LEVEL_COLOR: Record<string, number> = {
  debug: 90,
  info: 0,
  warn: 33,
  error: 31,
};

/** Creates a printer; names are padded so the lines stay aligned. */
export function createPrinter(options: PrinterOptions = {}): Printer {
  const color = options.color ??
    (Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined);
  const encoder = new TextEncoder();
  const write = options.write ??
    ((text: string) => writeAll(encoder.encode(text)));
  const colors = new Map<string, number>();
  let width = 7; // "cluster"
  const paint = (code: number, text: string) =>
    color && code !== 0 ? `\x1b[${code}m${text}\x1b[0m` : text;
  const tag = (name: string) => {
    let code = colors.get(name);
    if (code === undefined) {
      code = PALETTE[colors.size % PALETTE.length]!;
      colors.set(name, code);
    }
    width = Math.max(width, name.length);
    return paint(code, `[${name}]`.padEnd(width + 2));
  };
  return {
    line(name, line) {
      const text = options.raw ? line : shorten(line, paint);
      write(`${tag(name)} ${text}\n`);
    },
    info(message) {
      write(`${paint(1, "[cluster]".padEnd(width + 2))} ${message}\n`);
    },
    text: write,
    alarm(message) {
      write(
        `${paint(1, "[cluster]".padEnd(width + 2))} ${paint(91, message)}\n`,
      );
    },
  };
}

/** A wsgw JSON log line as `12:00:01.234 INFO  event key=value…`; other lines unchanged. */
function shorten(
  line: string,
  paint: (code: number, text: string) => string,
): string {
  if (!line.startsWith("{")) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return line; // not JSON after all
  }
  const { ts, level, event, nodeId: _nodeId, ...fields } = record;
  if (typeof level !== "string" || typeof event !== "string") return line;
  const time = typeof ts === "string" ? ts.slice(11, 23) : "";
  const rest = Object.entries(fields).map(([key, value]) =>
    `${key}=${
      typeof value === "string" && !/\s/.test(value)
        ? value
        : JSON.stringify(value)
    }`
  );
  return [
    time,
    paint(LEVEL_COLOR[level] ?? 0, level.toUpperCase().padEnd(5)),
    event,
    ...rest,
  ].join(" ");
}

function writeAll(bytes: Uint8Array): void {
  try {
    let written = 0;
    while (written < bytes.length) {
      written += Deno.stdout.writeSync(bytes.subarray(written));
    }
  } catch {
    // stdout is gone (a closed pipe): the cluster keeps running and must
    // still be stopped cleanly, so losing its log lines is the lesser harm.
  }
}
