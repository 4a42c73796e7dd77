/**
 * What every ctl command gets: its arguments and flags, the resolved
 * settings, and where to write.
 *
 * @module
 */
import type { CtlConfig } from "./ctl_config.ts";
import { need } from "./ctl_config.ts";
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

/** A ctl command; throws CtlError to fail. */
export type Command = (ctx: CommandContext) => Promise<void>;

/** The router of the settings, or a CtlError saying how to name one. */
export function routerOf(config: CtlConfig): RouterClient {
  const url = need(config.router, "router URL", config.hint);
  const key = need(config.apiKey, "API key", config.hint);
  return new RouterClient(url, key);
}

/** The etcd of the settings, or a CtlError saying how to name one. */
export function etcdOf(config: CtlConfig): EtcdReader {
  return new EtcdReader(
    need(config.etcd, "etcd endpoint", config.hint),
    config.prefix,
  );
}

/** Writes `value` as JSON on stdout. */
export function printJson(io: CtlIo, value: unknown, pretty = false): void {
  io.out(JSON.stringify(value, null, pretty ? 2 : undefined) + "\n");
}
