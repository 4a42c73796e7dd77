/**
 * Real-browser tests: Chromium from Debian (`/usr/bin/chromium`, never a
 * browser downloaded by Playwright) driven by `playwright-core`, headless,
 * in a fresh profile per test. Without Chromium, browser tests fail with a
 * clear message in CI (`CI=true`) and are skipped, saying why, elsewhere.
 *
 * @example
 * ```ts
 * browserTest("demo - page loads", async (browser) => {
 *   const page = await browser.newPage();
 *   await page.goto(url);
 * });
 * ```
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Pages stand for separate devices: a tab in the background must keep
  // its timers (reconnect backoff, pings) running at full speed.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

/** A headless Chromium with a fresh profile; dispose closes it and removes the profile. */
export type BrowserSession = AsyncDisposable & {
  context: BrowserContext;
  /** A new tab, 1280×860, recording its WebSockets (see {@link webSockets}). */
  newPage(): Promise<Page>;
};

/** Why Chromium cannot run here, or undefined when it can. */
export function chromiumProblem(): string | undefined {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return undefined;
  } catch {
    // fall through
  }
  return `Chromium is not installed at ${CHROMIUM} (Debian: apt-get install -y chromium; bash ops/test.sh installs it)`;
}

/** Launches Chromium headless in a new temp profile. */
export async function launchBrowser(): Promise<BrowserSession> {
  const profile = await Deno.makeTempDir({ prefix: "wsgw-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 860 },
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
  await context.addInitScript(RECORD_WEBSOCKETS);
  // A persistent context opens with one blank tab: tests open their own.
  const blank = context.pages();
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      for (const tab of blank.splice(0)) await tab.close();
      return page;
    },
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * A `Deno.test` in a real browser, launched for the test and closed after
 * it (the leak sanitizers stay on).
 */
export function browserTest(
  name: string,
  fn: (browser: BrowserSession) => Promise<void>,
): void {
  const problem = chromiumProblem();
  if (problem !== undefined && Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error(`${problem}. Browser tests cannot be skipped in CI.`);
    });
    return;
  }
  if (problem !== undefined) {
    // deno-lint-ignore no-console
    console.warn(`SKIPPED (not in CI): ${name}: ${problem}`);
    Deno.test({ name, ignore: true, fn() {} });
    return;
  }
  Deno.test(name, async () => {
    await using browser = await launchBrowser();
    await fn(browser);
  });
}

/** One WebSocket a page opened, as the page saw it. */
export type PageSocket = {
  url: string;
  /** Close code, once closed. */
  closeCode: number | null;
  /** Its welcome frame, if one came. */
  welcome: {
    nodeId: string;
    epoch: string;
    seq: number;
    recovered: boolean;
  } | null;
};

/** Every WebSocket `page` opened since it loaded, oldest first. */
export function webSockets(page: Page): Promise<PageSocket[]> {
  return page.evaluate(() =>
    (globalThis as unknown as { __wsgwSockets: PageSocket[] }).__wsgwSockets
  );
}

/**
 * Wraps the page's `WebSocket` to record each socket's URL, close code and
 * welcome frame: the page's own view, without touching the client.
 */
const RECORD_WEBSOCKETS = `(() => {
  const Native = globalThis.WebSocket;
  const sockets = globalThis.__wsgwSockets = [];
  globalThis.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const record = { url: String(url), closeCode: null, welcome: null };
      sockets.push(record);
      this.addEventListener("close", (e) => { record.closeCode = e.code; });
      this.addEventListener("message", (e) => {
        try {
          const frame = JSON.parse(e.data);
          if (frame.type === "welcome") record.welcome = frame;
        } catch {}
      });
    }
  };
})();`;
