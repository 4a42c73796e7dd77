/**
 * What the etcd backend shares: the npm `etcd3` client set up for our retry
 * model, the registry's error types, error classification and abortable
 * backoff. Private to `shared/registry/`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import {
  Etcd3,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCInvalidArgumentError,
  type IOptions,
} from "etcd3";
import { HttpError, UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { RegistryKeys } from "./keys.ts";
import type { NodeRecordCodec } from "./node_record_codec.ts";

/** etcd cannot be reached, or did not answer in time. */
export class RegistryUnavailableError extends UnavailableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RegistryUnavailableError";
  }
}

/** A call on a membership that has left, or on a closed registry. */
export class RegistryClosedError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("registry_closed", 503, message, options);
    this.name = "RegistryClosedError";
  }
}

/** etcd refused a txn for good (malformed or forbidden): no retry helps. */
export class RegistryRefusedError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super("registry_refused", 500, message, options);
    this.name = "RegistryRefusedError";
  }
}

/** Counters of one {@link EtcdRegistry}, read by tests and metrics. */
export type EtcdRegistryStats = {
  /** Txns that wrote user or node keys (registrations, re-registrations). */
  txns: number;
  /** Put/delete ops inside those txns. */
  ops: number;
  /** Txns that failed for a transient reason and were retried. */
  txnRetries: number;
  /** Times a membership took a new lease and re-registered its users. */
  leaseRegrants: number;
  /** Times a watch listed again after the first listing. */
  watchRestarts: number;
};

/** What the membership and watch need from their registry. */
export type EtcdContext = {
  readonly client: Etcd3;
  readonly keys: RegistryKeys;
  /** Signs the node records written and checks those read. */
  readonly records: NodeRecordCodec;
  readonly log: Logger;
  readonly stats: EtcdRegistryStats;
};

type FaultPolicy = NonNullable<IOptions["faultHandling"]>["global"];

/**
 * A policy that just runs the call. etcd3's defaults (three immediate
 * retries, then a circuit breaker that refuses calls for 5 s after three
 * failures) would delay recovery after an outage by up to 5 s and hide what
 * happened; the membership and the watch retry with their own backoff.
 */
const PASS_THROUGH = {
  execute: (fn: (context: { signal: AbortSignal }) => unknown) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as FaultPolicy;

/**
 * Adds etcd's `hasleader: true` metadata to every call. A member cut off
 * from the quorum still serves its local state: without this, a watch on it
 * stays open and silent (it even answers progress requests) while the
 * cluster moves on, and a status ping answers "fine". With it, the member
 * refuses new calls at once ("etcdserver: no leader") and cancels open
 * streams after three election timeouts without a leader, so our watch
 * lists again and the next call goes to another endpoint.
 */
const requireLeader: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set("hasleader", "true");
      next(metadata, listener);
    },
  });
/** How the client proves itself to etcd and checks etcd's certificate. */
export type EtcdSecurity = {
  /** PEM: the CA that signed etcd's certificate (else the system's roots, for https endpoints). */
  ca?: Uint8Array;
  /** PEM: a client certificate and its key, for `--client-cert-auth`. */
  cert?: Uint8Array;
  key?: Uint8Array;
  /** etcd user and password, for `etcdctl auth enable`. */
  username?: string;
  password?: string;
};

/** Creates the npm client: deadlines on unary calls, no hidden retries. */
export function createEtcdClient(
  endpoints: string[],
  callTimeout: number,
  security: EtcdSecurity = {},
): Etcd3 {
  const { ca, cert, key, username, password } = security;
  return new Etcd3({
    hosts: endpoints,
    // https endpoints without a CA use the system's roots (etcd3 does that
    // when no credentials are given).
    ...(ca || cert
      ? {
        credentials: {
          // grpc wants a root certificate whenever it gets a client one.
          rootCertificate: Buffer.from(ca ?? systemRootsUnavailable()),
          privateKey: key ? Buffer.from(key) : undefined,
          certChain: cert ? Buffer.from(cert) : undefined,
        },
      }
      : {}),
    ...(username !== undefined && password !== undefined
      ? { auth: { username, password } }
      : {}),
    // Unary calls get a deadline; streams are watched by our own watchdogs.
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + callTimeout },
    faultHandling: { global: PASS_THROUGH, host: () => PASS_THROUGH! },
    grpcOptions: {
      // grpc-js backs off up to 120 s between reconnects by default: after an
      // etcd restart we want to be back within a second or so.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
      // Listings are paged, but one etcd revision (a revoked lease) holds a
      // whole node's users, sent as one watch response (~50 bytes per key):
      // accept up to ~1M keys per node instead of grpc's default 4 MB.
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      // grpc-js takes interceptors from the client options etcd3 passes on.
      interceptors: [requireLeader],
    },
  });
}

function systemRootsUnavailable(): never {
  throw new TypeError(
    "a client certificate for etcd needs the CA that signed etcd's certificate too (WSGW_ETCD_CA)",
  );
}

/** A key or value as the RPC layer wants it. */
export function bytes(value: string | Uint8Array): Buffer {
  return typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
}

/** True when etcd says the lease does not exist (revoked or expired). */
export function isLeaseNotFound(error: unknown): boolean {
  return error instanceof EtcdLeaseInvalidError ||
    (error instanceof Error &&
      error.message.includes("requested lease not found"));
}

/**
 * True for errors a retry cannot cure (a malformed or forbidden request);
 * everything else (unavailable, deadline, reset stream) is worth retrying.
 */
export function isPermanent(error: unknown): boolean {
  return error instanceof GRPCInvalidArgumentError ||
    error instanceof EtcdPermissionDeniedError;
}

/**
 * Milliseconds to wait before retry number `attempt` (0-based): exponential
 * from `base`, capped at `max`, the upper half jittered so that many nodes
 * coming back after an outage do not retry in lockstep.
 */
export function backoff(attempt: number, base = 50, max = 2000): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}

export { sleep } from "../sleep.ts";

/** True when the member answered "no leader" (cut off from the quorum). */
export function isNoLeader(error: unknown): boolean {
  return error instanceof Error && error.message.includes("no leader");
}

/** Wraps a failed etcd call in a {@link RegistryUnavailableError}. */
export function unavailable(what: string, cause: unknown): never {
  const detail = cause instanceof Error ? cause.message : String(cause);
  throw new RegistryUnavailableError(`etcd ${what} failed: ${detail}`, {
    cause,
  });
}
