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

const presence = (nodeId: string) =>
  z.array(
    z.object({
      connId,
      nodeId: z.literal(nodeId),
      device: z.string().max(MAX_USER_ID_LENGTH * 4).nullable(),
      connectedAt: z.number().finite(),
    }),
  ).max(100_000);

const stats = (nodeId: string) =>
  z.object({
    nodeId: z.literal(nodeId),
    connections: count,
    users: count,
    draining: z.boolean(),
    startedAt: z.number().finite(),
  });

const schemas = {
  presence,
  stats,
  broadcast: () => z.object({ devices: count }),
  kick: () => z.object({ closed: count }),
  catchUp: () => z.object({ sessions: count }),
  deliverBatch: () =>
    z.object({
      results: z.array(z.object({ devices: z.record(z.string(), count) })),
    }),
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
  const parsed = schemas[what](nodeId).safeParse(value);
  if (parsed.success) return { answer: parsed.data as NodeAnswers[K] };
  const issue = parsed.error.issues[0];
  return {
    problem: `${issue?.path.join(".") || "answer"}: ${
      issue?.message ?? "invalid"
    }`,
  };
}
