/**
 * What gateway nodes answer is checked before a router passes it on: a node
 * is a separate process (and whoever reaches the internal port with the
 * secret can pose as one), so its answers get the same distrust as any
 * input. Each answer must have the expected shape; unknown fields are
 * dropped, and presence may only list the node's own connections.
 *
 * @module
 */
import { z } from "zod";
import type {
  BroadcastResult,
  CatchUpResult,
  DeliverBatchResult,
  DeviceInfo,
  KickResult,
  NodeStats,
} from "../shared/node_api.ts";
import { MAX_USER_ID_LENGTH } from "../shared/protocol.ts";

const count = z.number().int().min(0);
/** Connection ids are ours (UUIDs); anything else did not come from a node. */
const connId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);

// Built once: a zod schema made per call compiles its parser again each time
// (that was 10% of a router's CPU under push load).
const presence = z.array(
  z.object({
    connId,
    nodeId: z.string(),
    device: z.string().max(MAX_USER_ID_LENGTH * 4).nullable(),
    connectedAt: z.number().finite(),
    remoteAddress: z.string().max(128).optional(),
  }),
).max(100_000);

const stats = z.object({
  nodeId: z.string(),
  connections: count,
  users: count,
  draining: z.boolean(),
  startedAt: z.number().finite(),
  version: z.string().max(64).optional(),
  lease: z.object({
    id: z.string().max(64).nullable(),
    healthy: z.boolean(),
  }).optional(),
  counters: z.object({ connects: count, closes: count, deliveries: count })
    .optional(),
});

const schemas = {
  presence,
  stats,
  broadcast: z.object({ devices: count }),
  kick: z.object({ closed: count }),
  catchUp: z.object({ sessions: count }),
};

/** What each checked call answers. */
export type NodeAnswers = {
  presence: DeviceInfo[];
  stats: NodeStats;
  broadcast: BroadcastResult;
  kick: KickResult;
  catchUp: CatchUpResult;
  deliverBatch: DeliverBatchResult;
};

/**
 * `value` as the answer of `what` from node `nodeId`, stripped of unknown
 * fields, or a description of why not.
 */
export function checkAnswer<K extends keyof NodeAnswers>(
  what: K,
  nodeId: string,
  value: unknown,
): { answer: NodeAnswers[K] } | { problem: string } {
  if (what === "deliverBatch") {
    return checkDeliverBatch(value) as
      | { answer: NodeAnswers[K] }
      | { problem: string };
  }
  const parsed = schemas[what as Exclude<K, "deliverBatch">].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      problem: `${issue?.path.join(".") || "answer"}: ${
        issue?.message ?? "invalid"
      }`,
    };
  }
  // A node speaks for itself only.
  const answer = parsed.data;
  if (Array.isArray(answer)) {
    const other = answer.findIndex((device) => device.nodeId !== nodeId);
    if (other !== -1) {
      return { problem: notThisNode(`${other}.nodeId`, nodeId) };
    }
  } else if ("nodeId" in answer && answer.nodeId !== nodeId) {
    return { problem: notThisNode("nodeId", nodeId) };
  }
  return { answer: answer as NodeAnswers[K] };
}

function notThisNode(path: string, nodeId: string): string {
  return `${path}: Invalid input: expected ${JSON.stringify(nodeId)}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The deliver-batch answer, checked by hand: it comes once per batch on the
 * push path, where zod's copying of every object costs more than the rest
 * of the check. Same rules as the other answers: `results` a list of
 * `{devices: {<user>: <count>}}`, counts integers ≥ 0, other fields dropped.
 */
function checkDeliverBatch(
  value: unknown,
): { answer: DeliverBatchResult } | { problem: string } {
  if (!isRecord(value)) return { problem: "answer: must be an object" };
  const { results } = value;
  if (!Array.isArray(results)) return { problem: "results: must be an array" };
  const checked: DeliverBatchResult["results"] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const result: unknown = results[i];
    if (!isRecord(result)) {
      return { problem: `results.${i}: must be an object` };
    }
    const { devices } = result;
    if (!isRecord(devices)) {
      return { problem: `results.${i}.devices: must be an object` };
    }
    for (const user in devices) {
      const n = devices[user];
      if (!Number.isSafeInteger(n) || (n as number) < 0) {
        return {
          problem: `results.${i}.devices.${user}: must be an integer ≥ 0`,
        };
      }
    }
    // JSON.parse made `devices` (own keys only, checked above): kept as is.
    checked[i] = { devices: devices as Record<string, number> };
  }
  return { answer: { results: checked } };
}
