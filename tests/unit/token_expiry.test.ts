/**
 * TokenExpiry: one timer for the token expiry of every connection of a
 * node; each connection is closed with `tokenExpired` once its `exp` plus
 * the skew has passed, moved by a renewal, and forgotten when it closes.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ChannelSession,
  type SessionSocket,
} from "../../gateway/channel_session.ts";
import { TokenExpiry } from "../../gateway/token_expiry.ts";
import type { CloseReason } from "../../shared/protocol.ts";
import { signToken, TokenVerifier } from "../../shared/token.ts";
import { waitFor } from "../_support/until.ts";

const SECRET = "token-expiry-secret-0123456789abcdef";

class FakeSocket implements SessionSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
}

/** A session of `user` whose closes are recorded; `expiry` forgets it on close, as the node does. */
function session(expiry: TokenExpiry, user = "u") {
  const socket = new FakeSocket();
  const closes: CloseReason[] = [];
  const s = new ChannelSession(
    { connId: `c-${user}`, user, device: null, connectedAt: 0 },
    socket,
    {
      sendBufferBytes: 1 << 20,
      inboundRate: 10,
      onClose: (closed, reason) => {
        closes.push(reason);
        expiry.forget(closed);
      },
      fill: () => Promise.reject(new Error("no history here")),
    },
  );
  return { session: s, socket, closes };
}

Deno.test("token expiry - a token already past exp + skew closes the session at once", () => {
  const expiry = new TokenExpiry({ skewSeconds: 5 });
  const a = session(expiry);
  expiry.expireAt(a.session, Date.now() - 6000);
  assert.deepEqual(a.closes, ["tokenExpired"]);
  assert.equal(expiry.watched, 0);
});

Deno.test("token expiry - sessions close once their expiry passes, the later one later; the skew counts", async () => {
  const expiry = new TokenExpiry({ skewSeconds: 1 });
  const soon = session(expiry, "soon");
  const later = session(expiry, "later");
  const start = Date.now();
  // Past exp already, but within the second of skew.
  expiry.expireAt(soon.session, start - 700);
  expiry.expireAt(later.session, start + 60_000);
  assert.equal(expiry.watched, 2);
  await waitFor(() => soon.closes.length > 0, { what: "the first expiry" });
  assert.ok(Date.now() - start >= 250, "closed before exp + skew");
  assert.deepEqual(soon.closes, ["tokenExpired"]);
  assert.deepEqual(later.closes, []);
  assert.equal(expiry.watched, 1);
  // Closing the other session stops the watch (and its timer: no leak).
  later.session.close("disconnected");
  assert.equal(expiry.watched, 0);
});

Deno.test("token expiry - a renewal of the same user moves the expiry; another user's is refused with an error frame", async () => {
  const expiry = new TokenExpiry({ skewSeconds: 0 });
  const verifier = new TokenVerifier(SECRET);
  const a = session(expiry, "ann");
  expiry.expireAt(a.session, Date.now() + 400);
  await expiry.renew(
    a.session,
    await signToken(SECRET, { sub: "bob" }),
    verifier,
  );
  assert.equal(JSON.parse(a.socket.sent[0]!).code, "token_mismatch");
  await expiry.renew(a.session, 42, verifier);
  assert.equal(JSON.parse(a.socket.sent[1]!).code, "token_invalid");
  await expiry.renew(
    a.session,
    await signToken(SECRET, { sub: "ann" }),
    verifier,
  );
  assert.equal(a.socket.sent.length, 2, "a good renewal sends nothing");
  // The first expiry passes; the renewed token (an hour) keeps it open.
  const renewed = session(expiry, "witness");
  expiry.expireAt(renewed.session, Date.now() + 600);
  await waitFor(() => renewed.closes.length > 0, {
    what: "the witness expiry",
  });
  assert.deepEqual(a.closes, []);
  a.session.close("disconnected");
  assert.equal(expiry.watched, 0);
});
