/**
 * Reading one environment variable of the configuration: trimmed, blank as
 * unset, and an error naming the variable when it is malformed.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

/** The environment a process is configured from (`Deno.env.toObject()`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The variable trimmed; undefined when unset or blank. */
export function envString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The variable, which `mode` requires.
 *
 * @throws {ConfigError} when it is unset or blank.
 */
export function envRequired(env: Env, name: string, mode: string): string {
  const value = envString(env, name);
  if (value === undefined) {
    throw new ConfigError(name, `${name} is required in ${mode} mode`);
  }
  return value;
}

/** The comma-separated entries of the variable, trimmed, blanks left out. */
export function envList(env: Env, name: string): string[] {
  return (envString(env, name) ?? "").split(",").map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * The variable as an integer from `min` to `max`; `fallback` when unset.
 *
 * @throws {ConfigError} naming the variable when it is not such an integer.
 */
export function envInt(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const raw = envString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new ConfigError(
      name,
      `${name} must be a ${
        min > 0 ? "positive" : "non-negative"
      } integer, got "${raw}"`,
    );
  }
  if (value < min || value > max) {
    throw new ConfigError(
      name,
      `${name} must be between ${min} and ${max}, got ${value}`,
    );
  }
  return value;
}
