// Generated from client/wsgw_client.ts by `deno task build:client`.
// Do not edit: change the source and rebuild.
// deno-lint-ignore-file
// client/_backoff.ts
function backoffDelay(attempt, minDelay, maxDelay, random) {
  const ceiling = Math.min(maxDelay, minDelay * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

// client/_connect_url.ts
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
  return parsed;
}
function connectUrl(base, token, resume) {
  const url = new URL(base);
  for (
    const name of [
      "token",
      "since",
      "epoch",
    ]
  ) url.searchParams.delete(name);
  const params = [
    `token=${encodeURIComponent(token)}`,
  ];
  if (resume) {
    params.push(`since=${resume.since}`);
    if (resume.epoch !== void 0) {
      params.push(`epoch=${encodeURIComponent(resume.epoch)}`);
    }
  }
  url.search = `${url.search ? `${url.search}&` : "?"}${params.join("&")}`;
  return url.href;
}
function probeUrl(socketUrl) {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url.href;
}

// client/_failure.ts
function statusFromErrorMessage(message) {
  if (typeof message !== "string") return void 0;
  const match = /status code:? (\d{3})\b/i.exec(message);
  return match ? Number(match[1]) : void 0;
}
function verdictOfStatus(status) {
  if (status === 401) return "unauthorized";
  if (status >= 500 || status === 429) return "outage";
  return "refused";
}
async function probeUpgradeUrl(url, fetchFn, signal) {
  let response;
  try {
    response = await fetchFn(url, {
      mode: "no-cors",
      credentials: "omit",
      cache: "no-store",
      signal,
    });
  } catch {
    return "outage";
  }
  await response.body?.cancel().catch(() => void 0);
  return verdictOfStatus(response.status);
}
async function classifyFailure(status, socketUrl, settings, controller) {
  if (status !== void 0) return verdictOfStatus(status);
  const { fetch, probe, pongTimeout, timers } = settings;
  if (!probe || !fetch) return "refused";
  const timer = timers.setTimeout(() => controller.abort(), pongTimeout);
  try {
    return await probeUpgradeUrl(probeUrl(socketUrl), fetch, controller.signal);
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

// client/_seq_tracker.ts
var SeqTracker = class {
  /** Highest seq delivered in this epoch: the duplicate threshold. */
  #delivered;
  /** The user's seq when a client without `since` first connected. */
  #start = 0;
  #epoch;
  /** False until a welcome (or a `since` option) gives a position. */
  #resumable;
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
  /** True (and recorded) when `seq` is new in this epoch; false for a duplicate. */
  accept(seq) {
    if (seq <= this.#delivered) return false;
    this.#delivered = seq;
    return true;
  }
};

// client/_settings.ts
var DEFAULT_TIMERS = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};
function parseSettings(options) {
  const { token, since } = options;
  if (typeof token !== "function" && (typeof token !== "string" || !token)) {
    throw new TypeError("token must be a non-empty string or a function");
  }
  if (since !== void 0 && !(Number.isSafeInteger(since) && since >= 0)) {
    throw new TypeError(`since must be a non-negative integer, got ${since}`);
  }
  const WebSocket = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WebSocket !== "function") {
    throw new TypeError(
      "WebSocket is not available: pass the WebSocket option",
    );
  }
  return {
    token,
    minDelay: positive(options, "minDelay", 500),
    maxDelay: positive(options, "maxDelay", 3e4),
    pingInterval: positive(options, "pingInterval", 25e3),
    pongTimeout: positive(options, "pongTimeout", 1e4),
    maxAuthFailures: positive(options, "maxAuthFailures", 3),
    probe: options.probe ?? true,
    WebSocket,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    random: options.random ?? Math.random,
    timers: options.timers ?? DEFAULT_TIMERS,
  };
}
function positive(options, name, fallback) {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}

// client/wsgw_client.ts
var EVICTED = 4001;
var DISCONNECTED = 4003;
var TERMINAL_CLOSES = {
  [EVICTED]: "evicted",
  [DISCONNECTED]: "disconnected",
};
var CLOSE_TIMEOUT = 3008;
var WsgwClient = class extends EventTarget {
  #settings;
  #url;
  #seqs;
  #keepalive;
  #state = "closed";
  #socket;
  /** Bumped by every dial and by close(): stale async steps see it and stop. */
  #generation = 0;
  #attempt = 0;
  #authFailures = 0;
  #welcome;
  #retryTimer;
  #probe;
  /** Sockets not yet closed and probes in flight, awaited by close(). */
  #pending = /* @__PURE__ */ new Set();
  /** @throws {TypeError} naming the option that is missing or invalid. */
  constructor(options) {
    super();
    this.#url = parseSocketUrl(options.url);
    this.#settings = parseSettings(options);
    this.#seqs = new SeqTracker(options.since, options.epoch);
    const { timers, pingInterval, pongTimeout } = this.#settings;
    this.#keepalive = new Keepalive(timers, pingInterval, pongTimeout, () => {
      if (this.#socket?.readyState === 1) this.#socket.send('{"type":"ping"}');
    }, () => this.#dead());
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
  /** The epoch of the user's history, from the last welcome. */
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
  /** Starts connecting; does nothing unless the state is `closed`. */
  connect() {
    if (this.#state !== "closed") return;
    this.#attempt = 0;
    this.#authFailures = 0;
    this.#setState("connecting");
    void this.#dial();
  }
  /**
   * Stops reconnecting and closes the socket with 1000. The promise settles
   * once the socket has closed (waiting at most `pongTimeout`).
   */
  close() {
    if (this.#state !== "closed") {
      this.#generation++;
      this.#probe?.abort();
      this.#drop(1e3, "client closed");
      this.#finish({
        code: 1e3,
        reason: "client closed",
      });
    }
    return this.#settled();
  }
  addEventListener(type, listener, options) {
    super.addEventListener(type, listener, options);
  }
  removeEventListener(type, listener, options) {
    super.removeEventListener(type, listener, options);
  }
  async #dial() {
    const generation = ++this.#generation;
    this.#retryTimer = void 0;
    let url;
    try {
      const { token } = this.#settings;
      const value = typeof token === "function" ? await token() : token;
      if (generation !== this.#generation) return;
      if (typeof value !== "string" || !value) {
        throw new TypeError("the token function returned no token");
      }
      url = connectUrl(this.#url, value, this.#seqs.resume());
      this.#open(new this.#settings.WebSocket(url), url);
    } catch (error) {
      if (generation !== this.#generation) return;
      const code = url === void 0 ? "token" : "socket";
      this.#emit("error", {
        code,
        message: messageOf(error),
        cause: error,
      });
      this.#retry();
    }
  }
  #open(socket, url) {
    this.#socket = socket;
    let opened = false;
    let status;
    this.#track(
      new Promise((resolve) => {
        socket.onclose = (event) => {
          resolve();
          if (socket !== this.#socket) return;
          this.#socket = void 0;
          this.#keepalive.stop();
          this.#onClose(event, opened, status, url);
        };
      }),
    );
    socket.onerror = (event) => {
      status ??= statusFromErrorMessage(event.message);
    };
    socket.onopen = () => {
      opened = true;
      this.#authFailures = 0;
      this.#setState("open");
      this.#keepalive.start();
    };
    let first = true;
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#onFrame(event.data, first);
      first = false;
    };
  }
  #onClose(event, opened, status, url) {
    const terminal = TERMINAL_CLOSES[event.code];
    if (terminal) {
      const reason = event.reason || terminal;
      this.#finish({
        code: event.code,
        reason,
      }, {
        code: terminal,
        message: `the server closed the connection: ${reason}`,
        closeCode: event.code,
      });
    } else if (opened) {
      this.#retry();
    } else {
      void this.#failedBeforeOpen(event.code, status, url);
    }
  }
  /** Counts a failure before open against the token unless it was an outage. */
  async #failedBeforeOpen(code, status, url) {
    const generation = this.#generation;
    const controller = this.#probe = new AbortController();
    const verdict = await this.#track(
      classifyFailure(status, url, this.#settings, controller),
    );
    if (generation !== this.#generation) return;
    this.#probe = void 0;
    if (verdict !== "outage") this.#authFailures++;
    if (this.#authFailures < this.#settings.maxAuthFailures) {
      return this.#retry();
    }
    const closeCode = code || 1006;
    this.#finish({
      code: closeCode,
      reason: "unauthorized",
    }, {
      code: "unauthorized",
      message: verdict === "unauthorized"
        ? "the gateway refused the token (HTTP 401)"
        : "the gateway kept refusing the connection: the token is likely invalid",
      closeCode,
    });
  }
  #onFrame(data, first) {
    this.#keepalive.alive();
    let frame;
    try {
      if (typeof data !== "string") throw new TypeError("binary frame");
      frame = JSON.parse(data);
      if (typeof frame?.type !== "string") throw new TypeError("no type");
    } catch (error) {
      const message = `unreadable frame: ${messageOf(error)}`;
      return this.#emit("error", {
        code: "bad_frame",
        message,
        cause: error,
      });
    }
    if (frame.type === "welcome") {
      if (!first) return;
      const { connId, nodeId, userId, seq, epoch, recovered } = frame;
      this.#seqs.welcome(seq, epoch, recovered);
      this.#attempt = 0;
      this.#welcome = {
        connId,
        nodeId,
        userId,
        seq,
        epoch,
        recovered,
      };
      this.#emit("welcome", {
        ...this.#welcome,
      });
    } else if (frame.type === "error") {
      this.#emit("error", {
        code: frame.code,
        message: frame.message,
      });
    } else if (frame.type === "message") {
      const { seq, id, data: data2, ts, broadcast } = frame;
      if (seq !== void 0 && !this.#seqs.accept(seq)) return;
      const message = seq === void 0
        ? {
          id,
          data: data2,
          ts,
        }
        : {
          seq,
          id,
          data: data2,
          ts,
        };
      if (broadcast) message.broadcast = true;
      this.#emit("message", message);
    }
  }
  #dead() {
    this.#drop(CLOSE_TIMEOUT, "ping timeout");
    this.#retry();
  }
  /** Forgets the current socket (its events no longer count) and closes it. */
  #drop(code, reason) {
    this.#keepalive.stop();
    const socket = this.#socket;
    if (socket === void 0) return;
    this.#socket = void 0;
    try {
      if (socket.readyState < 2) socket.close(code, reason);
    } catch (error) {
      const message = `closing the socket failed: ${messageOf(error)}`;
      this.#emit("error", {
        code: "socket",
        message,
        cause: error,
      });
    }
  }
  #retry() {
    const { minDelay, maxDelay, random, timers } = this.#settings;
    this.#setState("connecting");
    const delay = backoffDelay(this.#attempt++, minDelay, maxDelay, random);
    this.#retryTimer = timers.setTimeout(() => void this.#dial(), delay);
  }
  #finish(closed, error) {
    this.#settings.timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = void 0;
    this.#keepalive.stop();
    if (error) this.#emit("error", error);
    this.#setState("closed");
    this.#emit("closed", closed);
  }
  #settled() {
    if (this.#pending.size === 0) return Promise.resolve();
    const { timers, pongTimeout } = this.#settings;
    let timer;
    const bound = new Promise((resolve) => {
      timer = timers.setTimeout(resolve, pongTimeout);
    });
    return Promise.race([
      Promise.all(this.#pending),
      bound,
    ]).then(() => {
      timers.clearTimeout(timer);
    });
  }
  #track(promise) {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }
  #emit(type, detail) {
    this.dispatchEvent(
      new CustomEvent(type, {
        detail,
      }),
    );
  }
};
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
export { WsgwClient };
