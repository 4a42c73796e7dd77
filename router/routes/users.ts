/**
 * Per-user routes: presence, disconnect and history. The user id is one path
 * segment, percent-encoded by the client (`/v1/users/a%2Fb/presence`).
 *
 * @module
 */
import { isSplicableEntry } from "../../shared/json_value.ts";
import { type Context, Hono } from "hono";
import { BadRequestError } from "../../shared/errors.ts";
import { userIdProblem } from "../../shared/protocol.ts";
import { type ApiKeyEnv, requireScope } from "../api_key.ts";
import { allows } from "../../shared/api_key_scopes.ts";
import type { RouterDeps } from "../deps.ts";
import { count, type FanOut } from "../fan_out.ts";
import { historyCall } from "../history_call.ts";
import { readJson } from "../read_json.ts";
import {
  DEFAULT_MESSAGES_LIMIT,
  DisconnectRequest,
  MAX_MESSAGES_LIMIT,
  parse,
  type PresenceResponse,
} from "../schemas.ts";

/** Routes under `/users/:user`, to mount under `/v1`. */
export function userRoutes(
  deps: RouterDeps,
  fanOut: FanOut,
): Hono<ApiKeyEnv> {
  const app = new Hono<ApiKeyEnv>();

  app.get("/users/:user/presence", requireScope("push"), async (c) => {
    const user = userParam(c);
    const { answers, unreachable } = await fanOut(
      owners(deps, user),
      "presence",
      (api) => api.presence(user),
    );
    // End users' addresses are for operators (the console), not for every
    // backend holding a push key.
    const admin = allows(c.get("apiScope"), "admin");
    const devices = answers
      .flatMap(({ value }) => Array.isArray(value) ? value : [])
      .map((device) => {
        if (admin) return device;
        const { remoteAddress: _, ...rest } = device;
        return rest;
      })
      // connId breaks ties: devices connected in the same millisecond come
      // back in the same order from every router replica.
      .sort((a, b) =>
        a.connectedAt - b.connectedAt ||
        (a.connId < b.connId ? -1 : a.connId > b.connId ? 1 : 0)
      );
    const answer: PresenceResponse = {
      user,
      online: devices.length > 0,
      devices,
      ...(unreachable.length > 0 ? { unreachable } : {}),
    };
    return c.json(answer);
  });

  app.post("/users/:user/disconnect", requireScope("admin"), async (c) => {
    const user = userParam(c);
    const body = await readJson(c.req.raw, {
      maxBytes: deps.config.maxBodyBytes,
      optional: true,
    });
    const { device, connId } = parse(DisconnectRequest, body ?? {});
    const { answers, unreachable } = await fanOut(
      owners(deps, user),
      "kick",
      (api) =>
        api.kick({
          user,
          ...(device === undefined ? {} : { device }),
          ...(connId === undefined ? {} : { connId }),
        }),
    );
    return c.json({
      closed: answers.reduce((sum, { value }) => sum + count(value.closed), 0),
      ...(unreachable.length > 0 ? { unreachable } : {}),
    });
  });

  app.get("/users/:user/messages", requireScope("push"), async (c) => {
    const user = userParam(c);
    const since = intQuery(c, "since", 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intQuery(
      c,
      "limit",
      DEFAULT_MESSAGES_LIMIT,
      1,
      MAX_MESSAGES_LIMIT,
    );
    const read = await historyCall(
      deps,
      "read",
      () => deps.history.read(user, since, limit),
    );
    // Stored data is JSON already: splice it in rather than parse and
    // re-serialize up to a thousand messages.
    // An entry that is not one JSON value (written to Redis by someone
    // else) would rewrite the answer around it: it is left out, and logged.
    const splicable = read.messages.filter(isSplicableEntry);
    if (splicable.length < read.messages.length) {
      deps.log.warn("history entries that are not one JSON value left out", {
        count: read.messages.length - splicable.length,
      });
    }
    const messages = splicable.map((m) =>
      `{"seq":${m.seq},"id":${
        JSON.stringify(m.id)
      },"data":${m.dataJson},"ts":${m.ts}${
        m.device === undefined ? "" : `,"device":${JSON.stringify(m.device)}`
      }}`
    );
    return c.body(
      `{"user":${JSON.stringify(user)},"epoch":${
        JSON.stringify(read.epoch)
      },"seq":${read.seq},"messages":[${messages.join(",")}]}`,
      200,
      { "content-type": "application/json" },
    );
  });

  return app;
}

/** Live node records holding `user`. */
function owners(deps: RouterDeps, user: string) {
  return deps.routes.owners(user).flatMap((nodeId) => {
    const node = deps.routes.node(nodeId);
    return node ? [node] : [];
  });
}

/**
 * The `:user` segment, decoded. It is decoded here from the raw URL because
 * hono keeps a malformed escape like `%E2%82` as literal text, which would
 * silently name another user.
 */
function userParam(c: Context): string {
  const segments = new URL(c.req.url).pathname.split("/");
  // Every route here ends in `/users/:user/<action>`.
  const raw = segments.at(-2) ?? "";
  let user: string;
  try {
    user = decodeURIComponent(raw);
  } catch (error) {
    throw new BadRequestError("user: must be percent-encoded UTF-8", {
      cause: error,
    });
  }
  const problem = userIdProblem(user);
  if (problem !== undefined) throw new BadRequestError(`user: ${problem}`);
  return user;
}

/** An integer query parameter in `[min, max]`, or `fallback` when absent. */
function intQuery(
  c: Context,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new BadRequestError(
      max === Number.MAX_SAFE_INTEGER
        ? `${name}: must be a non-negative integer`
        : `${name}: must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}
