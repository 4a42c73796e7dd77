/**
 * `ctl push <user…> <json>`: one push through the router, its answer
 * printed. `ctl token <user>`: a client token signed with the JWT secret.
 *
 * @module
 */
import { signToken } from "../../shared/token.ts";
import { need } from "./ctl_config.ts";
import { type CommandContext, printJson, routerOf } from "./context.ts";
import { CtlUsageError } from "./errors.ts";

/** `ctl push <user> [<user>…] <json> [--id ID] [--device D] [--json]` */
export async function pushCommand(
  { args, config, flags, io }: CommandContext,
): Promise<void> {
  if (args.length < 2) {
    throw new CtlUsageError(
      `push takes users and then the data: ctl push alice '{"text":"hi"}'`,
    );
  }
  const users = args.slice(0, -1);
  const raw = args.at(-1)!;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw new CtlUsageError(
      `the data must be JSON (quote strings: '"hi"'), got ${raw}`,
    );
  }
  const answer = await routerOf(config, "push").call("POST", "/v1/push", {
    users,
    data,
    ...(flags.id === undefined ? {} : { id: flags.id }),
    ...(flags.device === undefined ? {} : { device: flags.device }),
  });
  printJson(io, answer, !flags.json);
}

/** `ctl token <user> [--device D] [--ttl 1h] [--json]` */
export async function tokenCommand(
  { args, config, flags, io }: CommandContext,
): Promise<void> {
  const [user, ...extra] = args;
  if (user === undefined || extra.length > 0) {
    throw new CtlUsageError("token takes one user id: ctl token <user>");
  }
  const secret = need(
    config.jwtSecret,
    "JWT secret",
    `pass --jwt-secret or set WSGW_JWT_SECRET (${config.hint})`,
  );
  const ttl = flags.ttl ?? "1h";
  const seconds = ttlSeconds(ttl);
  const token = await signToken(
    secret,
    { sub: user, device: flags.device },
    `${seconds}s`,
  );
  if (!flags.json) return io.out(`${token}\n`);
  printJson(io, {
    token,
    user,
    device: flags.device ?? null,
    expiresAt: Math.floor(Date.now() / 1000) + seconds,
  });
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90`, `90s`, `15m`, `1h`, `7d` in seconds. */
function ttlSeconds(ttl: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(ttl);
  const seconds = match ? Number(match[1]) * UNIT[match[2] || "s"]! : 0;
  if (seconds < 1 || seconds > 366 * 86400) {
    throw new CtlUsageError(
      `--ttl must be like 90s, 15m, 1h or 7d (at most a year), got "${ttl}"`,
    );
  }
  return seconds;
}
