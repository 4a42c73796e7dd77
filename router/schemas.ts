/**
 * zod schemas of every push API body and answer. Requests are validated with
 * them; `openapi.ts` turns the same schemas into the served description.
 *
 * @module
 */
import { z } from "zod";
import { MAX_PUSH_USERS } from "../shared/config.ts";
import { BadRequestError } from "../shared/errors.ts";
import { MAX_USER_ID_LENGTH, userIdProblem } from "../shared/protocol.ts";

/** Longest push id, in characters. */
export const MAX_PUSH_ID_LENGTH = 128;
/** Longest device label, in characters (as in client tokens). */
export const MAX_DEVICE_LENGTH = 128;
/** Largest `limit` of the messages API. */
export const MAX_MESSAGES_LIMIT = 1000;
/** `limit` of the messages API when none is given. */
export const DEFAULT_MESSAGES_LIMIT = 100;

/** A user id: 1 to 128 characters (code points), no control characters. */
export const UserId = z.string().check((ctx) => {
  const problem = userIdProblem(ctx.value);
  if (problem !== undefined) {
    ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }
}).meta({
  description:
    "User id: 1 to 128 characters, no control characters; in paths, percent-encoded (encodeURIComponent).",
  minLength: 1,
  maxLength: MAX_USER_ID_LENGTH,
});

/** Why `id` is not a push id, or undefined when it is one. */
function pushIdProblem(id: unknown): string | undefined {
  if (typeof id !== "string") return "must be a string";
  // Code points: a UTF-16 length within bounds is within them already.
  const outside = (n: number) => n < 1 || n > MAX_PUSH_ID_LENGTH;
  if (outside(id.length) && outside([...id].length)) {
    return `must be 1 to ${MAX_PUSH_ID_LENGTH} characters`;
  }
  return undefined;
}

const PushId = z.string().check((ctx) => {
  const problem = pushIdProblem(ctx.value);
  if (problem !== undefined) {
    ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }
}).meta({
  description:
    "Idempotency key. The same id again within the history TTL gets the first answer and delivers nothing. Default: a random UUID.",
  minLength: 1,
  maxLength: MAX_PUSH_ID_LENGTH,
});

const Device = z.string()
  .min(1, "must be 1 to 128 characters")
  .max(MAX_DEVICE_LENGTH, "must be 1 to 128 characters");

const Data = z.unknown().meta({
  description:
    "Any JSON value, handed to clients as is; its JSON is at most WSGW_MAX_MESSAGE_BYTES bytes (else 413 message_too_large).",
});

/** Nodes that did not answer; present only when non-empty. */
const Unreachable = z.array(z.string()).optional().meta({
  description:
    "Ids of gateway nodes that failed to answer (after one retry); their connections are not counted. Present only when non-empty.",
});

/** Body of `POST /v1/push`. */
export const PushRequest = z.object({
  users: z.array(UserId)
    .min(1, `must have 1 to ${MAX_PUSH_USERS} entries`)
    .max(MAX_PUSH_USERS, `must have 1 to ${MAX_PUSH_USERS} entries`)
    .meta({ description: "Recipients; duplicates get the message once." }),
  data: Data,
  id: PushId.optional(),
  device: Device.optional().meta({
    description: "Only connections whose token has this device label get it.",
  }),
});
export type PushRequest = z.infer<typeof PushRequest>;

/**
 * Validates a `POST /v1/push` body: the same rules as {@link PushRequest},
 * checked by hand for a body that passes them (zod rebuilds every object and
 * array, a few percent of a push's CPU), and by the schema otherwise, so
 * that a bad body gets the schema's message naming the field.
 *
 * @throws {BadRequestError} as {@link parse} does.
 */
export function parsePushRequest(value: unknown): PushRequest {
  if (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    "data" in value
  ) {
    const { users, data, id, device } = value as Record<string, unknown>;
    if (
      Array.isArray(users) && users.length >= 1 &&
      users.length <= MAX_PUSH_USERS &&
      users.every((user) => userIdProblem(user) === undefined) &&
      (id === undefined || pushIdProblem(id) === undefined) &&
      (device === undefined ||
        (typeof device === "string" && device.length >= 1 &&
          device.length <= MAX_DEVICE_LENGTH))
    ) {
      // Only the known keys, as the schema would give them.
      const body: PushRequest = { users: users as string[], data };
      if (id !== undefined) body.id = id as string;
      if (device !== undefined) body.device = device as string;
      return body;
    }
  }
  return parse(PushRequest, value);
}

/** Per-user outcome of a push. */
export const PushResult = z.object({
  user: z.string(),
  seq: z.int().min(0).nullable().meta({
    description:
      "The user's seq of this message; null when it was not stored for this user (then `stored` is false), which may be so for some users of a push only (a Redis Cluster master down): those got it live only.",
  }),
  devices: z.int().min(0).meta({
    description:
      "Connections that have the message (handed to now, or read from history a moment before); 0 when offline.",
  }),
});
export type PushResult = z.infer<typeof PushResult>;

/** Answer of `POST /v1/push`. */
export const PushResponse = z.object({
  id: z.string(),
  results: z.array(PushResult),
  stored: z.literal(false).optional().meta({
    description:
      "Present (false) only when the history could not store the message for every user: those whose `seq` is null got it live, without seq, on the connections open now, and no reconnect will replay it for them; users with a seq were stored as usual.",
  }),
  unreachable: Unreachable,
});
export type PushResponse = z.infer<typeof PushResponse>;

/**
 * Body of `POST /v1/broadcast` (the OpenAPI component `BroadcastRequest`;
 * what a router asks of a node is `shared/node_api.ts`'s BroadcastRequest).
 */
export const BroadcastBody = z.object({ data: Data, id: PushId.optional() });
export type BroadcastBody = z.infer<typeof BroadcastBody>;

/** Answer of `POST /v1/broadcast`. */
export const BroadcastResponse = z.object({
  id: z.string(),
  nodes: z.int().min(0).meta({ description: "Nodes that took the broadcast." }),
  devices: z.int().min(0).meta({
    description: "Connections it was written to.",
  }),
  unreachable: Unreachable,
});
export type BroadcastResponse = z.infer<typeof BroadcastResponse>;

/** One connection, as the presence answer shows it. */
export const PresenceDevice = z.object({
  connId: z.string(),
  nodeId: z.string(),
  device: z.string().nullable(),
  connectedAt: z.int().min(0).meta({ description: "ms since epoch" }),
  remoteAddress: z.string().optional().meta({
    description:
      "The socket's peer address as its node saw it (a balancer's, behind one).",
  }),
});

/** Answer of `GET /v1/users/{user}/presence`. */
export const PresenceResponse = z.object({
  user: z.string(),
  online: z.boolean(),
  devices: z.array(PresenceDevice).meta({ description: "Oldest first." }),
  unreachable: Unreachable,
});
export type PresenceResponse = z.infer<typeof PresenceResponse>;

/** Body of `POST /v1/users/{user}/disconnect`; may be empty. */
export const DisconnectRequest = z.object({
  device: Device.optional().meta({
    description: "Close only connections with this device label.",
  }),
  connId: z.string().min(1).max(128).optional().meta({
    description: "Close only this connection (`connId` of presence).",
  }),
});

/** Answer of `POST /v1/users/{user}/disconnect`. */
export const DisconnectResponse = z.object({
  closed: z.int().min(0).meta({ description: "Connections closed with 4003." }),
  unreachable: Unreachable,
});

/** One retained message. */
export const StoredMessage = z.object({
  seq: z.int().min(0),
  id: z.string(),
  data: z.unknown(),
  ts: z.int().min(0).meta({ description: "ms since epoch" }),
});

/** Answer of `GET /v1/users/{user}/messages`. */
export const MessagesResponse = z.object({
  user: z.string(),
  epoch: z.string().meta({
    description: "Changes whenever the user's seq could restart.",
  }),
  seq: z.int().min(0).meta({
    description: "Latest seq of the user; 0 if none.",
  }),
  messages: z.array(StoredMessage).meta({
    description: "Retained messages with seq > since, oldest first.",
  }),
});

/** One gateway node, as `GET /v1/nodes` lists it. */
export const NodeInfo = z.object({
  nodeId: z.string(),
  url: z.string(),
  connections: z.int().min(0).nullable().meta({
    description: "null when the node did not answer",
  }),
  users: z.int().min(0).nullable().meta({
    description: "null when the node did not answer",
  }),
  draining: z.boolean(),
  startedAt: z.int().min(0),
  reachable: z.boolean().meta({
    description:
      "false when the node did not answer; the rest comes from its registry record",
  }),
  version: z.string().nullable().optional().meta({
    description: "The node's release; null when it did not say",
  }),
  lease: z.object({
    id: z.string().nullable().meta({
      description: "etcd lease id; null in the embedded process",
    }),
    healthy: z.boolean().meta({
      description: "false while the node renews a lease it may have lost",
    }),
  }).nullable().optional().meta({
    description: "The registry lease the node's keys hang on",
  }),
  counters: z.object({
    connects: z.int().min(0),
    closes: z.int().min(0),
    deliveries: z.int().min(0),
  }).nullable().optional().meta({
    description:
      "Totals since the node started (connections accepted and ended, frames written)",
  }),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

/** Answer of `GET /v1/nodes`. */
export const NodesResponse = z.array(NodeInfo);

/** Every error answer. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.string().meta({
      description:
        "bad_request, invalid_json, unauthorized, forbidden, not_found, payload_too_large, message_too_large, push_in_progress, history_unavailable, internal, …",
    }),
    message: z.string(),
  }),
});

/**
 * Validates `value` against `schema`.
 *
 * @throws {BadRequestError} whose message names the first bad field, e.g.
 * `users[3]: must be 1 to 128 characters`.
 */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new BadRequestError("body: is invalid");
  throw new BadRequestError(`${fieldName(issue.path)}: ${describe(issue)}`);
}

/** `["users", 3, "x"]` → `users[3].x`; the whole body is `body`. */
function fieldName(path: readonly PropertyKey[]): string {
  let name = "";
  for (const key of path) {
    name += typeof key === "number"
      ? `[${key}]`
      : `${name === "" ? "" : "."}${String(key)}`;
  }
  return name === "" ? "body" : name;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code !== "invalid_type") return issue.message;
  if (issue.input === undefined) return "is required";
  const expected = issue.expected === "int" ? "integer" : issue.expected;
  return `must be ${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}`;
}
