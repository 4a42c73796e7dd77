/**
 * The history seam and its in-memory backend. The Redis backend is imported
 * from `./redis.ts` by the composition roots only.
 *
 * @module
 */
export * from "./history.ts";
export * from "./memory.ts";
