/**
 * The example env files' placeholder secrets (`change-me…`), refused by
 * gateways and routers at start (shared/config.ts).
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Variables holding secrets, as the example env files spell them. */
const SECRET_VARIABLES = [
  "WSGW_API_KEYS",
  "WSGW_JWT_SECRET",
  "WSGW_JWT_PREVIOUS_SECRET",
  "WSGW_INTERNAL_SECRET",
  "WSGW_INTERNAL_OTHER_SECRET",
] as const;

/** "change-me" or "changeme" as a word of its own, in any case. */
const PLACEHOLDER = /(^|[^a-z0-9])change-?me([^a-z0-9]|$)/i;

/**
 * Refuses the example files' placeholder values (`change-me…`): a cluster
 * started from a copied example would otherwise run with secrets anyone
 * reading the repository knows. The message names the variable, never the
 * value, and says how to make real ones.
 */
export function refusePlaceholders(env: Env): void {
  for (const name of SECRET_VARIABLES) {
    const entries = (env[name] ?? "").split(",");
    const at = entries.findIndex((entry) => PLACEHOLDER.test(entry));
    if (at === -1) continue;
    const which = name === "WSGW_API_KEYS" ? ` (entry ${at + 1})` : "";
    throw new ConfigError(
      name,
      `${name}${which} still holds the example's "change-me" placeholder: generate real secrets with \`deno task ctl secrets --out .env\` (or \`openssl rand -hex 32\` for each value)`,
    );
  }
}
