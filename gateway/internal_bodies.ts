/**
 * Bodies of the node-internal API (internal_app.ts), checked against the
 * schemas of shared/node_api.ts (and the drain pace here) before the node acts
 * on them: a router is trusted with the secret, not with every byte it sends.
 *
 * @module
 */
import { z } from "zod";
import { BadRequestError } from "../shared/errors.ts";

export const drainSchema = z.object({
  batch: z.int().min(1).optional(),
  intervalMs: z.int().min(0).max(60_000).optional(),
});

/** Pace of a drain asked for through `POST /internal/drain`. */
export type DrainPace = z.infer<typeof drainSchema>;

/** `text` as JSON checked by `schema`; a 400 naming what is wrong otherwise. */
export function parseBody<T>(text: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError("body is not valid JSON", { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError(z.prettifyError(parsed.error));
  }
  return parsed.data;
}
