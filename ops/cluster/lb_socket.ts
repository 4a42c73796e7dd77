/**
 * haproxy's admin socket of the local cluster: after a reload the launcher
 * waits until the new worker lists exactly the gateways it should, each up.
 *
 * @module
 */

/** One server of the `gateways` backend as `show stat` reports it. */
export type LbServer = { name: string; status: string };

/** The servers of backend `gateways`, from `show stat` on `socket`. */
export async function lbServers(socket: string): Promise<LbServer[]> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    await conn.write(new TextEncoder().encode("show stat\n"));
    let text = "";
    for await (
      const chunk of conn.readable.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
    }
    const [header, ...rows] = text.replace(/^# /, "").trim().split("\n");
    const columns = header!.split(",");
    const at = (name: string) => columns.indexOf(name);
    return rows.map((row) => row.split(","))
      .filter((f) =>
        f[at("pxname")] === "gateways" &&
        !["FRONTEND", "BACKEND"].includes(f[at("svname")]!)
      )
      .map((f) => ({ name: f[at("svname")]!, status: f[at("status")]! }));
  } finally {
    try {
      conn.close();
    } catch {
      // closed by haproxy after its answer
    }
  }
}

/**
 * Resolves once the backend lists exactly `want` (sorted names joined by
 * commas), all up.
 *
 * @throws {Error} after `timeoutMs`, naming what haproxy lists.
 */
export async function waitForLb(
  socket: string,
  want: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = "nothing";
  while (Date.now() < deadline) {
    try {
      const servers = await lbServers(socket);
      seen = servers.map((s) => `${s.name} ${s.status}`).join(", ");
      const names = servers.map((s) => s.name).sort().join(",");
      if (names === want && servers.every((s) => s.status.startsWith("UP"))) {
        return;
      }
    } catch (error) {
      seen = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `haproxy did not list ${want} (all up) within ${timeoutMs} ms; it lists ${seen}`,
  );
}
