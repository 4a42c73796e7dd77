/**
 * A WebSocket client in its own process, for TLS tests: connects to the URL
 * given as its argument with Deno's own certificate checks (trust comes from
 * `DENO_CERT` or the system store, nothing else), prints every frame as one
 * JSON line on stdout, and exits 0 after its first `message` frame, 1 when
 * the connection fails (the error on stderr).
 *
 * @module
 */
const url = Deno.args[0];
if (url === undefined) {
  throw new Error("usage: deno run -A tests/_support/wss_probe.ts <wss://…>");
}
const socket = new WebSocket(url);
socket.onmessage = (event) => {
  Deno.stdout.writeSync(new TextEncoder().encode(`${event.data}\n`));
  if (JSON.parse(String(event.data)).type === "message") {
    socket.close(1000);
    Deno.exit(0);
  }
};
socket.onerror = (event) => {
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `${(event as ErrorEvent).message ?? "connection failed"}\n`,
    ),
  );
  Deno.exit(1);
};
