/**
 * `POST /v1/push` and `POST /v1/broadcast`.
 *
 * A push is stored first (one seq per user), then handed to the nodes that
 * hold its users, one request per node. A user that is offline, or whose node
 * fails to answer, gets the message from history on the next connect. When
 * the history cannot store it, the push is still delivered live, without a
 * seq, and the answer says `"stored": false`; when it stored it for some
 * users only (a Redis Cluster master down), those get their seq and the
 * others go live only, and each result's `seq` says which.
 *
 * @module
 */
import { chargePush } from "../key_budget.ts";
import { Hono } from "hono";
import { BadRequestError, PartialAppendError } from "../../shared/errors.ts";
import type { Appended } from "../../shared/history/mod.ts";
import type { DeliverRequest } from "../../shared/node_api.ts";
import { type ApiKeyEnv, requireScope } from "../api_key.ts";
import type { RouterDeps } from "../deps.ts";
import { HistoryUnavailableError, MessageTooLargeError } from "../errors.ts";
import { count, type FanOut } from "../fan_out.ts";
import { historyCall } from "../history_call.ts";
import { idempotent } from "../idempotent.ts";
import { idempotencyKey, keyFingerprint } from "../idempotency_key.ts";
import { readJson } from "../read_json.ts";
import { RecentAnswers } from "../recent_answers.ts";
import {
  BroadcastBody,
  type BroadcastResponse,
  parse,
  parsePushRequest,
  type PushResponse,
} from "../schemas.ts";
import { Throttle } from "../throttle.ts";

/** Routes of pushes and broadcasts, to mount under `/v1`. */
export function pushRoutes(
  deps: RouterDeps,
  fanOut: FanOut,
): Hono<ApiKeyEnv> {
  const { config } = deps;
  const app = new Hono<ApiKeyEnv>();
  const recent = new RecentAnswers();
  const throttle = new Throttle();
  const fingerprints = config.apiKeys.map(({ key }) => keyFingerprint(key));

  app.post("/push", requireScope("push"), async (c) => {
    const body = parsePushRequest(
      await readJson(c.req.raw, { maxBytes: config.maxBodyBytes }),
    );
    if (body.users.length > config.maxPushUsers) {
      throw new BadRequestError(
        `users: at most ${config.maxPushUsers} per push (WSGW_MAX_PUSH_USERS), got ${body.users.length}`,
        undefined,
        "too_many_users",
      );
    }
    const dataJson = encodeData(body.data, config.maxMessageBytes);
    const id = body.id ?? crypto.randomUUID();
    const users = [...new Set(body.users)];
    chargePush(c, users.length, dataJson, config.maxPushBytes);
    const key = idempotencyKey(fingerprints[c.get("apiKeyIndex")]!, "push", id);
    const answer = await idempotent(
      deps,
      key,
      () =>
        push(deps, fanOut, throttle, {
          id,
          users,
          dataJson,
          device: body.device,
          // A client's id may come again after a crash: the history answers
          // a retry with the seqs the first attempt got.
          dedupeKey: body.id === undefined ? undefined : key,
        }),
      recent,
      { fresh: body.id === undefined },
    );
    return c.json(answer);
  });

  app.post("/broadcast", requireScope("broadcast"), async (c) => {
    const body = parse(
      BroadcastBody,
      await readJson(c.req.raw, { maxBytes: config.maxBodyBytes }),
    );
    const dataJson = encodeData(body.data, config.maxMessageBytes);
    chargePush(c, 1, dataJson, config.maxPushBytes);
    const id = body.id ?? crypto.randomUUID();
    const answer = await idempotent(
      deps,
      idempotencyKey(fingerprints[c.get("apiKeyIndex")]!, "broadcast", id),
      () => broadcast(deps, fanOut, id, dataJson),
      recent,
      { fresh: body.id === undefined },
    );
    return c.json(answer);
  });

  return app;
}

type Push = {
  id: string;
  users: string[];
  dataJson: string;
  device: string | undefined;
  dedupeKey: string | undefined;
};

/**
 * Stores the message for each user, then delivers it once per owning node;
 * delivers it without seq when the history cannot store it.
 */
async function push(
  deps: RouterDeps,
  fanOut: FanOut,
  throttle: Throttle,
  { id, users, dataJson, device, dedupeKey }: Push,
): Promise<PushResponse> {
  const ts = Date.now();
  // Per user; `undefined` for a user whose copy was not stored.
  let seqs: readonly (Appended | undefined)[] | undefined;
  try {
    seqs = await historyCall(
      deps,
      "append",
      () =>
        deps.history.append(users, {
          id,
          ts,
          dataJson,
          ...(device === undefined ? {} : { device }),
          ...(dedupeKey === undefined ? {} : { dedupeKey }),
        }),
    );
  } catch (error) {
    if (!(error instanceof HistoryUnavailableError)) throw error;
    if (error.cause instanceof PartialAppendError) {
      seqs = error.cause.appended;
    }
    // Connected devices still get it now; nobody can replay it later.
    if (throttle.allow("append")) {
      deps.log.warn(
        seqs
          ? "history stored a push for some users only: the others delivered live only"
          : "history unavailable: pushes delivered live only",
        { error },
      );
    }
  }
  if (seqs && seqs.length !== users.length) {
    throw new Error(
      `history append returned ${seqs.length} seqs for ${users.length} users`,
    );
  }

  const targets = new Map<string, DeliverRequest["targets"]>();
  users.forEach((user, i) => {
    for (const nodeId of deps.routes.owners(user)) {
      let list = targets.get(nodeId);
      if (!list) targets.set(nodeId, list = []);
      // seq 0 tells the node the message has none.
      const stored = seqs?.[i];
      list.push(
        stored ? { user, seq: stored.seq, epoch: stored.epoch } : {
          user,
          seq: 0,
        },
      );
    }
  });
  const owners = [...targets.keys()].flatMap((nodeId) => {
    const node = deps.routes.node(nodeId);
    return node ? [node] : [];
  });
  const { answers, unreachable } = await fanOut(
    owners,
    "deliver",
    (api, node) =>
      api.deliver({
        id,
        dataJson,
        ts,
        ...(device === undefined ? {} : { device }),
        targets: targets.get(node.nodeId)!,
      }),
  );

  if (seqs) {
    // History has these messages; the node's connections must look there
    // once it answers again.
    for (const nodeId of unreachable) {
      const stored = targets.get(nodeId)!.filter((t) => t.seq > 0);
      deps.missed?.add(nodeId, stored.map((t) => t.user));
    }
  }
  const devices = new Map<string, number>();
  for (const { node, value } of answers) {
    for (const { user } of targets.get(node.nodeId)!) {
      const given = value.devices && Object.hasOwn(value.devices, user)
        ? value.devices[user]
        : 0;
      devices.set(user, (devices.get(user) ?? 0) + count(given));
    }
  }
  return {
    id,
    results: users.map((user, i) => ({
      user,
      seq: seqs?.[i]?.seq ?? null,
      devices: devices.get(user) ?? 0,
    })),
    ...(seqs && !seqs.includes(undefined) ? {} : { stored: false as const }),
    ...(unreachable.length > 0 ? { unreachable } : {}),
  };
}

/** Hands the message to every live node once, draining ones included. */
async function broadcast(
  deps: RouterDeps,
  fanOut: FanOut,
  id: string,
  dataJson: string,
): Promise<BroadcastResponse> {
  const ts = Date.now();
  const { answers, unreachable } = await fanOut(
    deps.routes.nodes(),
    "broadcast",
    (api) => api.broadcast({ id, dataJson, ts }),
  );
  return {
    id,
    nodes: answers.length,
    devices: answers.reduce((sum, { value }) => sum + count(value.devices), 0),
    ...(unreachable.length > 0 ? { unreachable } : {}),
  };
}

/**
 * Serializes `data` once for every node and history.
 *
 * @throws {MessageTooLargeError} when its UTF-8 JSON is over `maxBytes`.
 */
function encodeData(data: unknown, maxBytes: number): string {
  const json = JSON.stringify(data);
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need counting.
  if (json.length * 3 > maxBytes) {
    const bytes = new TextEncoder().encode(json).byteLength;
    if (bytes > maxBytes) {
      throw new MessageTooLargeError(
        `data: is ${bytes} bytes of JSON, more than ${maxBytes}`,
      );
    }
  }
  return json;
}
