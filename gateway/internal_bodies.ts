/**
 * Bodies of the node-internal API (internal_app.ts, deliver_stream.ts),
 * checked before the node acts on them: a router is trusted with the secret,
 * not with every byte it sends.
 *
 * @module
 */
import { z } from "zod";
import { BadRequestError } from "../shared/errors.ts";
import { isOneJsonValue } from "../shared/json_value.ts";
import type { DeliverStreamBatch } from "../shared/node_api.ts";

/** Spliced into frames as is: must be exactly one JSON value. */
const jsonValue = z.string().refine(isOneJsonValue, {
  message: "dataJson must be exactly one JSON value",
});
export const deliverSchema = z.object({
  id: z.string(),
  dataJson: jsonValue,
  ts: z.number(),
  device: z.string().optional(),
  targets: z.array(
    z.object({
      user: z.string(),
      seq: z.number().int().min(0),
      epoch: z.string().optional(),
    }),
  ),
});
export const deliverBatchSchema = z.object({
  deliveries: z.array(deliverSchema),
});
export const broadcastSchema = z.object({
  id: z.string(),
  dataJson: jsonValue,
  ts: z.number(),
});
export const catchUpSchema = z.object({
  users: z.array(z.string()).max(100_000),
});
export const kickSchema = z.object({
  user: z.string(),
  device: z.string().optional(),
  connId: z.string().optional(),
  reason: z.enum(["disconnected", "evicted"]).optional(),
});
export const drainSchema = z.object({
  batch: z.int().min(1).optional(),
  intervalMs: z.int().min(0).max(60_000).optional(),
});

/** Pace of a drain asked for through `POST /internal/drain`. */
export type DrainPace = z.infer<typeof drainSchema>;

/** `text` as JSON checked by `schema`; a 400 naming what is wrong otherwise. */
export function parseBody<T>(text: string, schema: z.ZodType<T>): T {
  return check(parseJson(text), schema);
}

/**
 * One frame of a deliver stream. `onBatch` learns the batch number as soon
 * as it is known, so a frame refused for its deliveries is still answered
 * under its number.
 */
export function parseDeliverStreamBatch(
  data: unknown,
  onBatch: (batch: number) => void,
): DeliverStreamBatch {
  if (typeof data !== "string") {
    throw new BadRequestError("deliver-stream frames are JSON text");
  }
  const json = parseJson(data);
  const batch = (json as { batch?: unknown } | null)?.batch;
  if (!Number.isSafeInteger(batch) || (batch as number) < 0) {
    throw new BadRequestError("batch: a non-negative integer is required");
  }
  onBatch(batch as number);
  const { deliveries } = check(json, deliverBatchSchema);
  return { batch: batch as number, deliveries };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError("body is not valid JSON", { cause: error });
  }
}

function check<T>(json: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError(z.prettifyError(parsed.error));
  }
  return parsed.data;
}
