/**
 * `Deno.serve` that resolves once listening, with the URL it listens on (port
 * 0 picks a free port, which tests and the cluster launcher rely on).
 *
 * @module
 */

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
