/**
 * What every ctl command gets: its arguments and flags, the resolved
 * settings, and where to write.
 *
 * @module
 */
import { allows, type Scope } from "../../shared/api_key_scopes.ts";
import type { CtlConfig } from "./ctl_config.ts";
import { need } from "./ctl_config.ts";
import { CtlError } from "./errors.ts";
import { EtcdReader } from "./etcd_reader.ts";
import { RouterClient } from "./router_client.ts";

/** Flags of ctl commands (global ones included). */
export type CommandFlags = {
  json?: boolean;
  node?: string;
  limit?: string;
  device?: string;
  ttl?: string;
  id?: string;
  timeout?: string;
  wait?: boolean;
  out?: string;
  force?: boolean;
  /** `--env NAME=value`, repeated (ctl cluster). */
  env?: string[];
};

/** Where ctl writes: stdout for results, stderr for notes and errors. */
export type CtlIo = {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
};

/** One command run. */
export type CommandContext = {
  args: string[];
  flags: CommandFlags;
  config: CtlConfig;
  io: CtlIo;
};

/**
 * What a command that did not throw reports: `"partial"` when one of its
 * sources (router or etcd) did not answer and it printed the other's part
 * with a note (ctl exits 3 then).
 */
export type CommandResult = void | "partial";

/** A ctl command; throws CtlError to fail. */
export type Command = (ctx: CommandContext) => Promise<CommandResult>;

/**
 * The router of the settings, called with the first key whose scope allows
 * `scope`; a CtlError names the setting to fix when there is none.
 */
export function routerOf(config: CtlConfig, scope: Scope): RouterClient {
  const url = need(
    config.router,
    "router URL",
    `pass --router URL or set WSGW_ROUTER (${config.hint})`,
  );
  return new RouterClient(url, keyFor(config, scope));
}

/** The first configured key whose scope allows `scope` (the key alone, no suffix). */
export function keyFor(config: CtlConfig, scope: Scope): string {
  if (config.apiKeys.length === 0) {
    throw new CtlError(
      `no API key configured: pass --api-key KEY or set WSGW_API_KEY (or WSGW_API_KEYS, as the routers read it) (${config.hint})`,
    );
  }
  const key = config.apiKeys.find((k) => allows(k.scope, scope));
  if (key) return key.key;
  const held = [...new Set(config.apiKeys.map((k) => k.scope))].join(", ");
  throw new CtlError(
    `this command needs an API key with scope ${scope}, but the keys of ${config.apiKeySource} have scope ${held}: pass --api-key with a key listed as "KEY:${scope}"${
      scope === "admin" ? " (or without a suffix)" : ""
    } in the routers' WSGW_API_KEYS`,
  );
}

/** The etcd of the settings, or a CtlError saying how to name one. */
export function etcdOf(config: CtlConfig): EtcdReader {
  return new EtcdReader(
    need(
      config.etcd,
      "etcd endpoint",
      `pass --etcd URLS or set WSGW_ETCD (${config.hint})`,
    ),
    config.prefix,
  );
}

/** Writes `value` as JSON on stdout. */
export function printJson(io: CtlIo, value: unknown, pretty = false): void {
  io.out(JSON.stringify(value, null, pretty ? 2 : undefined) + "\n");
}
