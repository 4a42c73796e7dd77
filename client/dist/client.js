// Generated from client/wsgw_client.ts by `deno task build:client`.
// Do not edit: change the source and rebuild.
// deno-lint-ignore-file
// client/_backoff.ts
function backoffDelay(attempt, minDelay, maxDelay, random) {
  const ceiling = Math.min(maxDelay, minDelay * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

// client/_connect_url.ts
var PROTOCOL = "wsgw.v1";
var TOKEN_PROTOCOL_PREFIX = "wsgw.token.";
function parseSocketUrl(url) {
  let parsed;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch (error) {
    throw new TypeError(`url must be a WebSocket URL, got "${url}"`, {
      cause: error,
    });
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`url must be a ws: or wss: URL, got "${url}"`);
  }
  if (parsed.searchParams.has("token")) {
    throw new TypeError(
      "url must not carry a token: pass it as the token option",
    );
  }
  return parsed;
}
function connectUrl(base, resume, token) {
  const url = new URL(base);
  for (
    const name of [
      "since",
      "epoch",
    ]
  ) url.searchParams.delete(name);
  const params = [];
  if (token !== void 0) params.push(`token=${encodeURIComponent(token)}`);
  if (resume) {
    params.push(`since=${resume.since}`);
    if (resume.epoch !== void 0) {
      params.push(`epoch=${encodeURIComponent(resume.epoch)}`);
    }
  }
  if (params.length > 0) {
    url.search = `${url.search ? `${url.search}&` : "?"}${params.join("&")}`;
  }
  return url.href;
}
var TCHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function tokenProtocols(token) {
  if (!TCHARS.test(token)) {
    throw new TypeError(
      'the token has characters a WebSocket subprotocol cannot carry (a JWT has none): use tokenTransport: "query"',
    );
  }
  return [
    PROTOCOL,
    TOKEN_PROTOCOL_PREFIX + token,
  ];
}
function probeUrl(socketUrl) {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.href;
}

// client/_failure.ts
function statusFromErrorMessage(message2) {
  if (typeof message2 !== "string") return void 0;
  const match = /status code:? (\d{3})\b/i.exec(message2);
  return match ? Number(match[1]) : void 0;
}
function verdictOfStatus(status, retryAfter) {
  if (status === 401) {
    return {
      kind: "unauthorized",
      status,
    };
  }
  if (status >= 500 || status === 429 || status === 0) {
    return retryAfter === void 0
      ? {
        kind: "outage",
        status,
      }
      : {
        kind: "outage",
        status,
        retryAfter,
      };
  }
  if (status === 426) {
    return {
      kind: "accepted",
      status,
    };
  }
  return {
    kind: "refused",
    status,
  };
}
function parseRetryAfter(value, now) {
  if (value === null || value.trim() === "") return void 0;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1e3;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? void 0 : Math.max(0, date - now);
}
async function probeUpgradeUrl(url, token, fetchFn, signal, now) {
  let response;
  try {
    response = await fetchFn(url, {
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      headers: token === void 0 ? {} : {
        authorization: `Bearer ${token}`,
      },
      signal,
    });
  } catch {
    return {
      kind: "outage",
    };
  }
  await response.body?.cancel().catch(() => void 0);
  if (response.type === "opaque") {
    return {
      kind: "outage",
    };
  }
  return verdictOfStatus(
    response.status,
    parseRetryAfter(response.headers.get("retry-after"), now),
  );
}
async function classifyFailure(status, socketUrl, token, settings, controller) {
  if (status === 401) return verdictOfStatus(status);
  const { fetch, probe, pongTimeout, timers, now } = settings;
  const fallback = status === void 0
    ? {
      kind: "outage",
    }
    : verdictOfStatus(status);
  if (!probe || !fetch) return fallback;
  const timer = timers.setTimeout(() => controller.abort(), pongTimeout);
  try {
    const verdict = await probeUpgradeUrl(
      probeUrl(socketUrl),
      token,
      fetch,
      controller.signal,
      now(),
    );
    return verdict.status === void 0 ? fallback : verdict;
  } finally {
    timers.clearTimeout(timer);
  }
}

// client/_keepalive.ts
var Keepalive = class {
  #timers;
  #interval;
  #timeout;
  #ping;
  #dead;
  #pingTimer;
  #deadTimer;
  constructor(timers, interval, timeout, ping, dead) {
    this.#timers = timers;
    this.#interval = interval;
    this.#timeout = timeout;
    this.#ping = ping;
    this.#dead = dead;
  }
  /** Schedules the next ping `interval` from now. */
  start() {
    this.stop();
    this.#pingTimer = this.#timers.setTimeout(() => {
      this.#pingTimer = void 0;
      this.#ping();
      this.#deadTimer = this.#timers.setTimeout(() => {
        this.#deadTimer = void 0;
        this.#dead();
      }, this.#timeout);
    }, this.#interval);
  }
  /**
   * Pings now unless a ping is already waiting for its answer: after the
   * page slept, the socket may be long dead; this finds out in `timeout`.
   */
  checkNow() {
    if (this.#deadTimer !== void 0) return;
    this.#timers.clearTimeout(this.#pingTimer);
    this.#pingTimer = void 0;
    this.#ping();
    this.#deadTimer = this.#timers.setTimeout(() => {
      this.#deadTimer = void 0;
      this.#dead();
    }, this.#timeout);
  }
  /** A frame arrived: a pending ping is answered; the next follows later. */
  alive() {
    if (this.#deadTimer !== void 0) this.start();
  }
  stop() {
    this.#timers.clearTimeout(this.#pingTimer);
    this.#timers.clearTimeout(this.#deadTimer);
    this.#pingTimer = this.#deadTimer = void 0;
  }
};

// client/_errors.ts
var WsgwStopError = class extends Error {
  constructor(message2 = "the token function stopped the client", options) {
    super(message2, options);
    this.name = "WsgwStopError";
  }
};
var TokenTimeoutError = class extends Error {
  constructor(ms) {
    super(`the token function did not answer within ${ms} ms`);
    this.name = "TokenTimeoutError";
  }
};
var WsgwClientError = class extends Error {
  /** The `error` code that stopped the client, or `closed` after `close()`. */
  code;
  constructor(code, message2) {
    super(message2);
    this.name = "WsgwClientError";
    this.code = code;
  }
};

// client/_outcomes.ts
var EVICTED = 4001;
var DISCONNECTED = 4003;
var TERMINAL_CLOSES = {
  [EVICTED]: "evicted",
  [DISCONNECTED]: "disconnected",
};
function terminalClose(code, reason) {
  const terminal = TERMINAL_CLOSES[code];
  if (!terminal) return void 0;
  const why = reason || terminal;
  return {
    closed: {
      code,
      reason: why,
    },
    error: {
      code: terminal,
      message: `the server closed the connection: ${why}`,
      closeCode: code,
    },
  };
}
function tokenStop(error) {
  return {
    closed: {
      code: 1e3,
      reason: "token stopped",
    },
    error: {
      code: "token_stopped",
      message: error.message,
      cause: error,
    },
  };
}
function tokenError(error) {
  const code = error instanceof TokenTimeoutError ? "token_timeout" : "token";
  const message2 = code === "token"
    ? `the token function failed: ${messageOf(error)}`
    : messageOf(error);
  return {
    code,
    message: message2,
    cause: error,
  };
}
function unauthorizedStop(code) {
  const closeCode = code || 1006;
  return {
    closed: {
      code: closeCode,
      reason: "unauthorized",
    },
    error: {
      code: "unauthorized",
      message: "the gateway refused the token (HTTP 401)",
      closeCode,
      status: 401,
    },
  };
}
function refusedError(status) {
  return {
    code: "refused",
    message: `the gateway refused the connection (HTTP ${status})`,
    status,
  };
}
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

// client/_pending_set.ts
var PendingSet = class {
  #timers;
  #pending = /* @__PURE__ */ new Set();
  constructor(timers) {
    this.#timers = timers;
  }
  /** Adds `promise` until it settles; returns it. */
  track(promise) {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
  /** Resolves when all have settled, or after `bound` ms. */
  settled(bound) {
    if (this.#pending.size === 0) return Promise.resolve();
    let timer;
    const wait = new Promise((resolve) => {
      timer = this.#timers.setTimeout(resolve, bound);
    });
    return Promise.race([
      Promise.all(this.#pending),
      wait,
    ]).then(() => {
      this.#timers.clearTimeout(timer);
    });
  }
};

// client/_token_source.ts
async function fetchToken(settings, reason, signal) {
  const { token, tokenTimeout, timers } = settings;
  if (typeof token === "string") return token;
  const controller = new AbortController();
  let timer;
  let abort = () => {
  };
  const bounded = new Promise((_, reject) => {
    abort = () => {
      timers.clearTimeout(timer);
      controller.abort(signal.reason);
      reject(signal.reason);
    };
    timer = timers.setTimeout(() => {
      const error = new TokenTimeoutError(tokenTimeout);
      controller.abort(error);
      reject(error);
    }, tokenTimeout);
  });
  signal.addEventListener("abort", abort);
  try {
    const value = await Promise.race([
      Promise.resolve().then(() =>
        token({
          reason,
          signal: controller.signal,
        })
      ),
      bounded,
    ]);
    if (typeof value !== "string" || !value) {
      throw new TypeError("the token function returned no token");
    }
    return value;
  } finally {
    timers.clearTimeout(timer);
    signal.removeEventListener("abort", abort);
  }
}
function tokenExpiry(token) {
  const part = token.split(".")[1];
  if (part === void 0) return void 0;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(base64 + "=".repeat((4 - base64.length % 4) % 4));
    const exp = JSON.parse(json).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1e3 : void 0;
  } catch {
    return void 0;
  }
}
function refreshDelay(expiresAt, now, refreshBefore) {
  const left = expiresAt - now;
  return Math.max(0, Math.max(left - refreshBefore, left / 2));
}

// client/_token_refresh.ts
var TokenRefresh = class {
  #settings;
  #hooks;
  #timer;
  /** The token the live connection holds. */
  #token;
  /** Bumped by stop(): a refresh in flight for an older connection is dropped. */
  #round = 0;
  constructor(settings, hooks) {
    this.#settings = settings;
    this.#hooks = hooks;
  }
  /** The token a new connection was opened with. */
  use(token) {
    this.#token = token;
  }
  /** Plans the next refresh, when the token is a function and a JWT with `exp`. */
  schedule() {
    const { timers, token, now, refreshBefore } = this.#settings;
    timers.clearTimeout(this.#timer);
    this.#timer = void 0;
    const expiresAt = this.#token && tokenExpiry(this.#token);
    if (typeof token !== "function" || !expiresAt || !this.#hooks.socket()) {
      return;
    }
    if (expiresAt - now() < 1e3) return;
    this.#timer = timers.setTimeout(() => {
      this.#timer = void 0;
      void this.#refresh();
    }, refreshDelay(expiresAt, now(), refreshBefore));
  }
  async #refresh() {
    const round = this.#round;
    let token;
    try {
      token = await fetchToken(this.#settings, "refresh", this.#hooks.signal());
    } catch (error) {
      if (round !== this.#round) return;
      this.#hooks.failed(error);
      return this.schedule();
    }
    if (round === this.#round) this.send(token);
  }
  /** Hands `token` to the live connection in a `token` frame. */
  send(token) {
    const socket = this.#hooks.socket();
    if (socket?.readyState !== 1) return;
    this.#token = token;
    socket.send(JSON.stringify({
      type: "token",
      token,
    }));
    this.schedule();
  }
  /** The connection ended: no refresh for it any more. */
  stop() {
    this.#round++;
    this.#settings.timers.clearTimeout(this.#timer);
    this.#timer = void 0;
  }
};

// client/_frames.ts
function readFrame(data, seqs, welcomeDue, handlers) {
  let frame;
  try {
    if (typeof data !== "string") throw new TypeError("binary frame");
    frame = JSON.parse(data);
    if (typeof frame?.type !== "string") throw new TypeError("no type");
  } catch (error) {
    const message2 = `unreadable frame: ${
      error instanceof Error ? error.message : String(error)
    }`;
    return handlers.emit("error", {
      code: "bad_frame",
      message: message2,
      cause: error,
    });
  }
  switch (frame.type) {
    case "welcome":
      if (!welcomeDue) return;
      return welcome(frame, seqs, handlers);
    case "message":
      return message(frame, seqs, handlers);
    case "reset": {
      if (typeof frame.epoch !== "string" || !frame.epoch) break;
      const previousEpoch = seqs.epoch;
      seqs.reset(frame.epoch);
      return handlers.emit("reset", {
        epoch: frame.epoch,
        previousEpoch,
      });
    }
    case "gap": {
      const { from, to } = frame;
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) break;
      seqs.gap(to);
      return handlers.emit("gap", {
        from,
        to,
      });
    }
    case "error": {
      const refresh = frame.code.startsWith("token_");
      return handlers.emit("error", {
        code: refresh ? "token_refresh" : "server",
        message: frame.message,
        serverCode: frame.code,
      });
    }
    default:
      return;
  }
  handlers.emit("error", {
    code: "bad_frame",
    message: `malformed ${frame.type} frame`,
  });
}
function welcome(frame, seqs, handlers) {
  const { connId, nodeId, userId, seq, epoch, recovered } = frame;
  seqs.welcome(seq, epoch, recovered);
  handlers.welcome({
    connId,
    nodeId,
    userId,
    seq,
    epoch,
    recovered,
  });
}
function message(frame, seqs, handlers) {
  const { seq, id, data, ts, broadcast } = frame;
  if (!seqs.accept(seq, id)) return;
  const message2 = seq === void 0
    ? {
      id,
      data,
      ts,
    }
    : {
      seq,
      id,
      data,
      ts,
    };
  if (broadcast) message2.broadcast = true;
  handlers.message(message2);
}

// client/_dialer.ts
var CLOSE_TIMEOUT = 3008;
var Dialer = class {
  #url;
  #settings;
  #seqs;
  #hooks;
  #keepalive;
  #socket;
  #welcomed = false;
  /** Bumped by every dial and cancel: stale async steps see it and stop. */
  #generation = 0;
  #authFailures = 0;
  #nextReason = "connect";
  /** Aborts the token call and probe in flight. */
  #abort;
  #handshakeTimer;
  #refresh;
  /** Sockets not yet closed and probes in flight, awaited by settled(). */
  #pending;
  constructor(url, settings, seqs, hooks) {
    this.#url = url;
    this.#settings = settings;
    this.#seqs = seqs;
    this.#hooks = hooks;
    this.#pending = new PendingSet(settings.timers);
    this.#refresh = new TokenRefresh(settings, {
      socket: () => this.connected ? this.#socket : void 0,
      signal: () => this.#abort?.signal ?? new AbortController().signal,
      failed: (error) => {
        if (error instanceof WsgwStopError) return this.#tokenFailed(error);
        this.#hooks.emit("error", {
          code: "token_refresh",
          message: `the token refresh failed: ${messageOf(error)}`,
          cause: error,
        });
      },
    });
    const { timers, pingInterval, pongTimeout } = settings;
    this.#keepalive = new Keepalive(timers, pingInterval, pongTimeout, () => {
      if (this.#socket?.readyState === 1) this.#socket.send('{"type":"ping"}');
    }, () => {
      this.drop(CLOSE_TIMEOUT, "ping timeout");
      this.#hooks.lost();
    });
  }
  /** True while a welcomed socket is up. */
  get connected() {
    return this.#socket !== void 0 && this.#welcomed;
  }
  resetAuth() {
    this.#authFailures = 0;
    this.#nextReason = "connect";
  }
  /** Pings the live socket now (after a sleep or a network change). */
  checkNow() {
    if (this.connected) this.#keepalive.checkNow();
  }
  /** Starts an attempt: token, socket, welcome (each bounded). */
  async dial() {
    this.cancel();
    const generation = this.#generation;
    const abort = this.#abort = new AbortController();
    const reason = this.#nextReason;
    this.#nextReason = "connect";
    let token;
    try {
      const { token: source } = this.#settings;
      token = typeof source === "string"
        ? source
        : await fetchToken(this.#settings, reason, abort.signal);
    } catch (error) {
      if (generation !== this.#generation) return;
      return this.#tokenFailed(error);
    }
    if (generation !== this.#generation) return;
    const query = this.#settings.tokenTransport === "query";
    const wasRecovering = this.#seqs.resuming;
    const url = connectUrl(
      this.#url,
      this.#seqs.resume(),
      query ? token : void 0,
    );
    let socket;
    try {
      socket = new this.#settings.WebSocket(
        url,
        query ? void 0 : tokenProtocols(token),
      );
    } catch (error) {
      const message2 = `the WebSocket could not be created: ${
        messageOf(error)
      }`;
      this.#hooks.emit("error", {
        code: "socket",
        message: message2,
        cause: error,
      });
      return this.#hooks.lost();
    }
    this.#refresh.use(token);
    this.#open(socket, url, query ? void 0 : token, wasRecovering);
  }
  #tokenFailed(error) {
    if (error instanceof WsgwStopError) {
      this.drop(1e3, "token stopped", false);
      return this.#hooks.stop(tokenStop(error));
    }
    this.#hooks.emit("error", tokenError(error));
    this.#hooks.lost();
  }
  #open(socket, url, probeToken, wasRecovering) {
    this.#socket = socket;
    this.#welcomed = false;
    let opened = false;
    let status;
    const { timers, handshakeTimeout } = this.#settings;
    this.#handshakeTimer = timers.setTimeout(() => {
      this.#handshakeTimer = void 0;
      const message2 = `no welcome within ${handshakeTimeout} ms`;
      this.#hooks.emit("error", {
        code: "handshake_timeout",
        message: message2,
      });
      this.drop(CLOSE_TIMEOUT, "handshake timeout");
      this.#hooks.lost();
    }, handshakeTimeout);
    const ended = (code, reason) => {
      if (socket !== this.#socket) return;
      const welcomed2 = this.#welcomed;
      this.#forget();
      this.#hooks.emit("disconnected", {
        code,
        reason,
        wasConnected: welcomed2,
      });
      this.#onClose(code, reason, welcomed2 || opened, status, url, probeToken);
    };
    let gone = () => {
    };
    this.#pending.track(new Promise((resolve) => gone = resolve));
    socket.onclose = (event) => {
      gone();
      ended(event.code || 1006, event.reason);
    };
    socket.onerror = (event) => {
      status ??= statusFromErrorMessage(event.message);
      if (!opened) {
        gone();
        ended(1006, "");
      }
    };
    socket.onopen = () => {
      opened = true;
      this.#keepalive.start();
    };
    let welcomed = false;
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#keepalive.alive();
      readFrame(event.data, this.#seqs, !welcomed, {
        emit: this.#hooks.emit,
        welcome: (welcome2) => {
          welcomed = true;
          timers.clearTimeout(this.#handshakeTimer);
          this.#handshakeTimer = void 0;
          this.#welcomed = true;
          this.#authFailures = 0;
          this.scheduleRefresh();
          this.#hooks.welcomed(welcome2, wasRecovering);
        },
        message: (message2) => this.#hooks.emit("message", message2),
      });
    };
  }
  #onClose(code, reason, opened, status, url, probeToken) {
    const terminal = terminalClose(code, reason);
    if (terminal) {
      this.#hooks.stop(terminal);
    } else if (opened) {
      this.#hooks.lost();
    } else {
      void this.#failedBeforeOpen(code, status, url, probeToken);
    }
  }
  /** Reads why an upgrade failed; only a 401 on a fresh token counts. */
  async #failedBeforeOpen(code, status, url, probeToken) {
    const generation = this.#generation;
    const abort = this.#abort = new AbortController();
    const verdict = await this.#pending.track(
      classifyFailure(status, url, probeToken, this.#settings, abort),
    );
    if (generation !== this.#generation) return;
    if (verdict.kind === "unauthorized") {
      if (++this.#authFailures >= this.#settings.maxAuthFailures) {
        return this.#hooks.stop(unauthorizedStop(code));
      }
      this.#nextReason = "unauthorized";
    } else if (verdict.kind === "refused") {
      this.#hooks.emit("error", refusedError(verdict.status));
    }
    this.#hooks.lost(verdict.retryAfter);
  }
  /** Plans the renewal of the live connection's token. */
  scheduleRefresh() {
    this.#refresh.schedule();
  }
  /** Hands `token` to the live connection (a `token` frame). */
  refreshWith(token) {
    this.#refresh.send(token);
  }
  /** Abandons the attempt in flight (token call, probe) and its timers. */
  cancel() {
    this.#generation++;
    this.#abort?.abort();
    this.#abort = void 0;
    const { timers } = this.#settings;
    timers.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = void 0;
    this.#refresh.stop();
  }
  /**
   * Forgets the current socket (its events no longer count) and closes it;
   * with `report`, emits its `disconnected`. False when there was none.
   */
  drop(code, reason, report = true) {
    const socket = this.#socket;
    const welcomed = this.#welcomed;
    this.#forget();
    if (socket === void 0) return false;
    try {
      if (socket.readyState < 2) socket.close(code, reason);
    } catch (error) {
      const message2 = `closing the socket failed: ${messageOf(error)}`;
      this.#hooks.emit("error", {
        code: "socket",
        message: message2,
        cause: error,
      });
    }
    if (report) {
      this.#hooks.emit("disconnected", {
        code,
        reason,
        wasConnected: welcomed,
      });
    }
    return true;
  }
  #forget() {
    this.#socket = void 0;
    this.#welcomed = false;
    this.#keepalive.stop();
    const { timers } = this.#settings;
    timers.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = void 0;
    this.#refresh.stop();
  }
  /** Resolves when every socket has closed, or after `bound` ms. */
  settled(bound) {
    return this.#pending.settled(bound);
  }
};

// client/_lifecycle.ts
var Lifecycle = class {
  #env;
  #now;
  #longSleep;
  #handlers;
  #hiddenAt;
  #listening = false;
  constructor(env, now, longSleep, handlers) {
    this.#env = env;
    this.#now = now;
    this.#longSleep = longSleep;
    this.#handlers = handlers;
  }
  /** False only when the environment knows it is offline. */
  get online() {
    return this.#env.online() !== false;
  }
  #offline = () => this.#handlers.offline();
  #online = () => this.#handlers.online();
  #visibility = () => {
    const visible = this.#env.visible();
    if (visible === false) {
      this.#hiddenAt ??= this.#now();
      return;
    }
    const hiddenAt = this.#hiddenAt;
    this.#hiddenAt = void 0;
    if (hiddenAt !== void 0 && this.#now() - hiddenAt >= this.#longSleep) {
      this.#handlers.woke();
    }
  };
  start() {
    if (this.#listening) return;
    this.#listening = true;
    this.#hiddenAt = this.#env.visible() === false ? this.#now() : void 0;
    this.#env.addEventListener("offline", this.#offline);
    this.#env.addEventListener("online", this.#online);
    this.#env.addEventListener("visibilitychange", this.#visibility);
  }
  stop() {
    if (!this.#listening) return;
    this.#listening = false;
    this.#env.removeEventListener("offline", this.#offline);
    this.#env.removeEventListener("online", this.#online);
    this.#env.removeEventListener("visibilitychange", this.#visibility);
  }
};

// client/_seq_tracker.ts
var SEQLESS_IDS = 512;
var SeqTracker = class {
  /** Highest seq delivered in this epoch: the duplicate threshold. */
  #delivered;
  /** The user's seq when a client without `since` first connected. */
  #start = 0;
  #epoch;
  /** False until a welcome (or a `since` option) gives a position. */
  #resumable;
  /** Insertion-ordered: the oldest id is dropped first. */
  #seqless = /* @__PURE__ */ new Set();
  constructor(since, epoch) {
    this.#delivered = since ?? 0;
    this.#resumable = since !== void 0;
    this.#epoch = epoch;
  }
  /** The `since` of the next connection. */
  get position() {
    return Math.max(this.#delivered, this.#start);
  }
  get epoch() {
    return this.#epoch;
  }
  /** True when the next connection resumes a position. */
  get resuming() {
    return this.#resumable;
  }
  /** What the next connection sends; `undefined` before any position. */
  resume() {
    if (!this.#resumable) return void 0;
    return {
      since: this.position,
      epoch: this.#epoch || void 0,
    };
  }
  /** Applies a welcome frame. */
  welcome(seq, epoch, recovered) {
    if (!this.#resumable) {
      this.#start = seq;
    } else if (!recovered) {
      this.#delivered = this.#start = 0;
    }
    this.#resumable = true;
    this.#epoch = epoch;
  }
  /** A `reset` frame: a new epoch whose messages follow from seq 1. */
  reset(epoch) {
    this.#delivered = this.#start = 0;
    this.#epoch = epoch;
    this.#resumable = true;
  }
  /** A `gap` frame: seqs up to `to` will never come. */
  gap(to) {
    this.#delivered = Math.max(this.#delivered, to);
  }
  /**
   * True (and recorded) when the message is new; false for a duplicate: a
   * seq at or below the threshold, or an id already delivered without seq.
   */
  accept(seq, id) {
    if (seq === void 0) {
      if (this.#seqless.has(id)) return false;
      this.#seqless.add(id);
      if (this.#seqless.size > SEQLESS_IDS) {
        this.#seqless.delete(this.#seqless.values().next().value);
      }
      return true;
    }
    if (seq <= this.#delivered) return false;
    this.#delivered = seq;
    return !this.#seqless.has(id);
  }
};

// client/_settings.ts
var DEFAULT_TIMERS = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};
function defaultEnvironment() {
  const g = globalThis;
  const target = (type) => type === "visibilitychange" ? g.document : g;
  return {
    addEventListener(type, listener) {
      target(type)?.addEventListener?.(type, listener);
    },
    removeEventListener(type, listener) {
      target(type)?.removeEventListener?.(type, listener);
    },
    online: () =>
      typeof g.navigator?.onLine === "boolean" ? g.navigator.onLine : void 0,
    visible: () =>
      g.document?.visibilityState === void 0
        ? void 0
        : g.document.visibilityState === "visible",
  };
}
function parseSettings(options) {
  const { token, since } = options;
  if (typeof token !== "function" && (typeof token !== "string" || !token)) {
    throw new TypeError("token must be a non-empty string or a function");
  }
  if (since !== void 0 && !(Number.isSafeInteger(since) && since >= 0)) {
    throw new TypeError(`since must be a non-negative integer, got ${since}`);
  }
  const transport = options.tokenTransport ?? "protocol";
  if (transport !== "protocol" && transport !== "query") {
    throw new TypeError(
      `tokenTransport must be "protocol" or "query", got ${transport}`,
    );
  }
  const WebSocket = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WebSocket !== "function") {
    throw new TypeError(
      "WebSocket is not available (Node < 22?): pass the WebSocket option",
    );
  }
  const positive = (name, fallback) => {
    const value = options[name] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`${name} must be a positive number, got ${value}`);
    }
    return value;
  };
  return {
    token,
    tokenTransport: transport,
    minDelay: positive("minDelay", 500),
    maxDelay: positive("maxDelay", 3e4),
    stableAfter: positive("stableAfter", 1e4),
    pingInterval: positive("pingInterval", 1e4),
    pongTimeout: positive("pongTimeout", 5e3),
    handshakeTimeout: positive("handshakeTimeout", 1e4),
    tokenTimeout: positive("tokenTimeout", 1e4),
    refreshBefore: positive("refreshBefore", 6e4),
    maxAuthFailures: positive("maxAuthFailures", 2),
    probe: options.probe ?? true,
    WebSocket,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    random: options.random ?? Math.random,
    timers: options.timers ?? DEFAULT_TIMERS,
    now: options.now ?? Date.now,
    environment: options.environment ?? defaultEnvironment(),
  };
}

// client/wsgw_client.ts
var UntypedTarget = EventTarget;
var WsgwClient = class extends UntypedTarget {
  #settings;
  #seqs;
  #dialer;
  #lifecycle;
  #state = "closed";
  /** Retries since the last connection that stayed up `stableAfter`. */
  #failures = 0;
  #welcome;
  #retryTimer;
  #stableTimer;
  #ready;
  /** @throws {TypeError} naming the option that is missing or invalid. */
  constructor(options) {
    super();
    const url = parseSocketUrl(options.url);
    const settings = this.#settings = parseSettings(options);
    this.#seqs = new SeqTracker(options.since, options.epoch);
    this.#dialer = new Dialer(url, settings, this.#seqs, {
      emit: (type, detail) => this.#emit(type, detail),
      welcomed: (welcome2, wasRecovering) =>
        this.#welcomed(welcome2, wasRecovering),
      lost: (retryAfter) => this.#retry(retryAfter),
      stop: ({ closed, error }) => this.#finish(closed, error),
    });
    const { pingInterval, pongTimeout } = settings;
    this.#lifecycle = new Lifecycle(
      settings.environment,
      settings.now,
      pingInterval + pongTimeout,
      {
        offline: () => this.#dialer.drop(3008, "offline") && this.#retry(),
        online: () => this.#wake("online"),
        woke: () => this.#wake("resume"),
      },
    );
  }
  /** Adds a listener for an event of {@link WsgwClientEventMap} (typos fail to type-check). */
  addEventListener(type, listener, options) {
    const add = EventTarget.prototype.addEventListener;
    add.call(this, type, listener, options);
  }
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type, listener, options) {
    const remove = EventTarget.prototype.removeEventListener;
    remove.call(this, type, listener, options);
  }
  /** The connection state. */
  get state() {
    return this.#state;
  }
  /**
   * Where the next connection resumes (`since`): the highest `seq` delivered
   * in the current epoch, or the user's seq when this client first connected
   * without `since` (older history is not replayed to a new client).
   */
  get lastSeq() {
    return this.#seqs.position;
  }
  /** The epoch of the user's history, from the last welcome or reset. */
  get epoch() {
    return this.#seqs.epoch;
  }
  /** The id of the current (or last) connection, from its welcome. */
  get connId() {
    return this.#welcome?.connId;
  }
  /** The gateway node of the current (or last) connection. */
  get nodeId() {
    return this.#welcome?.nodeId;
  }
  /** The user the token authenticated, from the last welcome. */
  get userId() {
    return this.#welcome?.userId;
  }
  /**
   * Starts connecting unless already started. Resolves at the first welcome;
   * rejects with a {@link WsgwClientError} when the client stops before.
   */
  connect() {
    if (this.#state !== "closed" && this.#ready) return this.#ready.promise;
    const ready = this.#ready = deferred();
    ready.promise.catch(() => void 0);
    this.#failures = 0;
    this.#dialer.resetAuth();
    this.#setState("connecting");
    this.#lifecycle.start();
    this.#emit("connecting", {
      attempt: 1,
      delay: 0,
      cause: "connect",
    });
    this.#dialer.dial();
    return ready.promise;
  }
  /**
   * Replaces the token (a string or a function) for every later connection.
   * A string is also sent to the live connection at once, so the gateway
   * extends it to the new token's expiry.
   */
  setToken(token) {
    if (typeof token !== "function" && (typeof token !== "string" || !token)) {
      throw new TypeError("token must be a non-empty string or a function");
    }
    this.#settings.token = token;
    if (typeof token === "string") this.#dialer.refreshWith(token);
    else this.#dialer.scheduleRefresh();
  }
  /**
   * Stops reconnecting and closes the socket with 1000. The promise settles
   * once the socket has closed, or after at most 1 s when the peer is dead.
   */
  close() {
    if (this.#state !== "closed") {
      this.#dialer.cancel();
      this.#dialer.drop(1e3, "client closed", false);
      this.#finish({
        code: 1e3,
        reason: "client closed",
      });
    }
    return this.#dialer.settled(Math.min(1e3, this.#settings.pongTimeout));
  }
  #welcomed(welcome2, wasRecovering) {
    const { timers, stableAfter } = this.#settings;
    this.#welcome = welcome2;
    timers.clearTimeout(this.#stableTimer);
    this.#stableTimer = timers.setTimeout(() => {
      this.#stableTimer = void 0;
      this.#failures = 0;
    }, stableAfter);
    this.#setState("connected");
    const connected = {
      ...welcome2,
      wasRecovering,
    };
    this.#emit("welcome", {
      ...welcome2,
    });
    this.#emit("connected", connected);
    this.#ready?.resolve(connected);
  }
  /** Schedules the next dial after backoff (at least `retryAfter` ms). */
  #retry(retryAfter) {
    if (this.#state === "closed") return;
    const { minDelay, maxDelay, random } = this.#settings;
    this.#clearTimers();
    this.#setState("connecting");
    let delay = backoffDelay(this.#failures++, minDelay, maxDelay, random);
    let cause = "backoff";
    if (retryAfter !== void 0 && retryAfter >= delay) {
      delay = Math.round(retryAfter + random() * minDelay);
      cause = "retry-after";
    }
    this.#schedule(delay, cause);
  }
  #schedule(delay, cause) {
    this.#emit("connecting", {
      attempt: this.#failures + 1,
      delay,
      cause,
    });
    this.#retryTimer = this.#settings.timers.setTimeout(() => {
      this.#retryTimer = void 0;
      this.#dialer.dial();
    }, delay);
  }
  /** `online`, or visible after a long sleep: check or redial now. */
  #wake(cause) {
    if (this.#state === "closed") return;
    if (this.#dialer.connected) return this.#dialer.checkNow();
    this.#dialer.drop(3008, cause);
    this.#dialer.cancel();
    this.#clearTimers();
    this.#failures = 0;
    const { random, minDelay } = this.#settings;
    this.#schedule(Math.floor(random() * Math.min(minDelay * 2, 1e3)), cause);
  }
  #clearTimers() {
    const { timers } = this.#settings;
    timers.clearTimeout(this.#retryTimer);
    timers.clearTimeout(this.#stableTimer);
    this.#retryTimer = this.#stableTimer = void 0;
  }
  #finish(closed, error) {
    if (this.#state === "closed") return;
    this.#clearTimers();
    this.#dialer.cancel();
    this.#lifecycle.stop();
    if (error) this.#emit("error", error);
    this.#setState("closed");
    this.#emit("closed", closed);
    this.#ready?.reject(
      new WsgwClientError(
        error?.code ?? "closed",
        error?.message ?? `the client closed: ${closed.reason}`,
      ),
    );
  }
  #emit(type, detail) {
    this.dispatchEvent(
      new CustomEvent(type, {
        detail,
      }),
    );
  }
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }
};
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    promise,
    resolve,
    reject,
  };
}
export { TokenTimeoutError, WsgwClient, WsgwClientError, WsgwStopError };
