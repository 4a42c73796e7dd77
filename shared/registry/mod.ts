/**
 * The registry seam and its in-memory backend. The etcd backend is imported
 * from `./etcd.ts` by the composition roots only, so the embedded process
 * never loads grpc.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./errors.ts";
export * from "./memory.ts";
export * from "./owner_map.ts";
export * from "./mirror.ts";
