/**
 * The client protocol (PROTOCOL.md "Client connection"): the frames of a
 * connection, its close codes, the rule for user ids and the one encoding of
 * a message frame. The only place frames and close codes are defined; the
 * node-internal API's types are `shared/node_api.ts`, the push API's
 * schemas `router/schemas.ts`. The browser client imports these as types
 * only, so its bundle carries none of this module.
 *
 * @module
 */

/** Close codes a gateway uses, each with the reason sent in the close frame. */
export const CLOSE = {
  /** The user opened more than `WSGW_MAX_DEVICES` connections; oldest goes. */
  evicted: { code: 4001, reason: "evicted" },
  /** Disconnected through the push API. */
  disconnected: { code: 4003, reason: "disconnected" },
  /** Its send buffer passed the limit. */
  slowConsumer: { code: 4008, reason: "slow consumer" },
  /** The node's send buffers together passed their budget; the slowest go. */
  nodeSendBudget: { code: 4008, reason: "slow consumer" },
  /** The node is draining: reconnect elsewhere with `since`. */
  draining: { code: 1012, reason: "node draining" },
  /** Garbage, oversized frames or rate limit. */
  policy: { code: 1008, reason: "policy violation" },
  /** The token's `exp` passed with no `token` frame renewing it: reconnect with a fresh one. */
  tokenExpired: { code: 4004, reason: "token expired" },
} as const;

/** The name of a {@link CLOSE} entry; used as the `reason` label of metrics. */
export type CloseReason = keyof typeof CLOSE;

/** First frame of every connection. */
export type WelcomeFrame = {
  type: "welcome";
  connId: string;
  nodeId: string;
  userId: string;
  /** Latest seq of this user, 0 if none. */
  seq: number;
  epoch: string;
  /** False when the client's `epoch` did not match: it must reset its seq tracking. */
  recovered: boolean;
};

/** A pushed message; `seq` is absent on broadcasts. */
export type MessageFrame = {
  type: "message";
  seq?: number;
  id: string;
  data: unknown;
  ts: number;
  broadcast?: true;
};

/** The answer to a client's `ping`. */
type PongFrame = { type: "pong" };

/**
 * The user's history started over under a new epoch (it expired with no
 * push for `WSGW_HISTORY_TTL`, or Redis lost it): the client forgets its seq
 * tracking and stands at seq 0 of `epoch`; the new epoch's messages follow
 * from seq 1, in order.
 */
export type ResetFrame = { type: "reset"; epoch: string };

/**
 * Messages `from`..`to` (inclusive) of the current epoch are gone from
 * history (trimmed or expired) and will not come on this connection.
 */
export type GapFrame = { type: "gap"; from: number; to: number };

/** A client frame refused (not JSON, an unknown type, a bad token renewal), and why. */
type ErrorFrame = { type: "error"; code: string; message: string };

/** Any frame a gateway sends to a client. */
export type ServerFrame =
  | WelcomeFrame
  | MessageFrame
  | PongFrame
  | ErrorFrame
  | ResetFrame
  | GapFrame;

/**
 * Renews the connection's token before it expires: same user, later `exp`.
 * A refused one is answered with an `error` frame whose code starts with
 * `token_`; the connection then still ends at the old token's expiry.
 */
export type TokenFrame = { type: "token"; token: string };

/** Longest user id, in characters (code points). */
export const MAX_USER_ID_LENGTH = 128;

/**
 * Why `user` is not a valid user id, or `undefined` when it is one: 1 to 128
 * characters, no control characters. Everything else is allowed.
 */
export function userIdProblem(user: unknown): string | undefined {
  if (typeof user !== "string") return "must be a string";
  // Code points: a UTF-16 length within bounds is within them already (no
  // array of characters made for every id of every push).
  const outside = (n: number) => n < 1 || n > MAX_USER_ID_LENGTH;
  if (outside(user.length) && outside([...user].length)) {
    return `must be 1 to ${MAX_USER_ID_LENGTH} characters`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(user)) {
    return "must not contain control characters";
  }
  // A lone surrogate is no character: it has no UTF-8 form, so it would
  // reach etcd keys and token bytes as something else (or not at all).
  if (!user.isWellFormed()) return "must be valid Unicode (no lone surrogates)";
  // Every URL parser drops a "." or ".." path segment (even as %2E), so no
  // client could name such a user in /v1/users/:user/….
  if (user === "." || user === "..") return 'must not be "." or ".."';
  return undefined;
}

/** Serializes a message frame; `data` is already JSON so it is encoded once per push. */
export function messageFrameJson(
  message: { id: string; ts: number; seq?: number; broadcast?: boolean },
  dataJson: string,
): string {
  const seq = message.seq === undefined ? "" : `"seq":${message.seq},`;
  const tail = message.broadcast ? `,"broadcast":true` : "";
  return `{"type":"message",${seq}"id":${
    JSON.stringify(message.id)
  },"data":${dataJson},"ts":${message.ts}${tail}}`;
}
