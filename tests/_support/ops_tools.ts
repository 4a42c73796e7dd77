/**
 * Helpers of the ops checks (`tests/integration/ops_*.test.ts`): external
 * tools (promtool, haproxy, docker-compose) that may be missing, and the
 * metric names a Prometheus exposition has or a PromQL expression queries.
 *
 * @module
 */

/** The repository root, as a path. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** True when `name` is an executable on PATH. */
export function hasTool(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // Not in this directory: look in the next one.
    }
  }
  return false;
}

/**
 * `Deno.test` that is skipped, saying why in its name, when one of `tools` is
 * not installed (`bash ops/test.sh` installs them).
 */
export function opsTest(
  name: string,
  tools: readonly string[],
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({ ...skipUnless(name, tools), fn });
}

/** A test or step `name` and `ignore`, saying which of `tools` is missing. */
export function skipUnless(
  name: string,
  tools: readonly string[],
): { name: string; ignore: boolean } {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length === 0) return { name, ignore: false };
  const them = missing.length === 1 ? "it" : "them";
  return {
    name: `${name} [SKIPPED: ${
      missing.join(", ")
    } not on PATH; bash ops/test.sh installs ${them}]`,
    ignore: true,
  };
}

/** What a finished command printed. */
export type Ran = { code: number; stdout: string; stderr: string };

/** Runs a command from the repository root, optionally feeding `stdin`. */
export async function run(
  command: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Ran> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
}

/** Metric families of a Prometheus text exposition: name → type. */
export function exposedMetrics(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (match) families.set(match[1]!, match[2]!);
  }
  return families;
}

/** The value of one sample (`name{labels} value`), or undefined. */
export function sampleValue(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length));
  }
  return undefined;
}

/** Metric names (ours and prom-client's) an expression queries. */
export function queriedMetrics(expr: string): string[] {
  return [
    ...new Set(expr.match(/\b(?:wsgw|nodejs|process)_[a-z0-9_]+\b/g) ?? []),
  ];
}

/**
 * True when `name` is a series of an exposed family: the family itself, or
 * `_bucket`/`_sum`/`_count` of a histogram (`_sum`/`_count` of a summary).
 */
export function isExposed(
  name: string,
  families: ReadonlyMap<string, string>,
): boolean {
  if (families.has(name)) return true;
  const match = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!match) return false;
  const type = families.get(match[1]!);
  return type === "histogram" ||
    (type === "summary" && match[2] !== "bucket");
}
