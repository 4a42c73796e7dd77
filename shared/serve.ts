/**
 * `Deno.serve` that resolves once listening, with the URL it listens on (port
 * 0 picks a free port, which tests and the cluster launcher rely on).
 *
 * @module
 */
import { deadline, DeadlineError } from "./deadline.ts";

/** A listening server and its base URL. */
export type Listening = { server: Deno.HttpServer; url: string; port: number };

/** Starts `handler` on `hostname:port` and waits until it listens. */
export async function serve(
  hostname: string,
  port: number,
  handler: Deno.ServeHandler,
): Promise<Listening> {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname,
    port,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, handler);
  const addr = await listening.promise;
  return {
    server,
    url: `http://${addr.hostname}:${addr.port}`,
    port: addr.port,
  };
}

/** Longest a graceful server shutdown may take before the process goes on. */
export const SHUTDOWN_WAIT_MS = 5000;

/**
 * Shuts `server` down gracefully, waiting at most `ms` for its connections
 * to finish. Deno's shutdown waits for every connection, and one the peer
 * abandoned half-way (a WebSocket handshake given up while this process was
 * stopped was seen to stay in CLOSE-WAIT) would hold the process forever.
 * Resolves true when the shutdown finished, false when it was cut short.
 */
export async function shutdownWithin(
  server: Pick<Deno.HttpServer, "shutdown">,
  ms: number = SHUTDOWN_WAIT_MS,
  onLate?: () => void,
): Promise<boolean> {
  try {
    await deadline(server.shutdown(), ms, "server shutdown");
    return true;
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
    onLate?.();
    return false;
  }
}
