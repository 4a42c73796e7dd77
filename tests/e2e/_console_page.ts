/**
 * The operator console (`/console`) in a browser tab, read and driven the way
 * an operator would: through its tables, buttons and confirmation dialog.
 * Every request the tab makes is recorded, so a test can check that none
 * leaves the console's origin.
 *
 * @module
 */
import type { Page } from "playwright-core";
import type { BrowserSession } from "../_support/browser.ts";
import { waitFor } from "../_support/until.ts";

/** One row of the nodes table, as text. */
export type NodeRow = {
  node: string;
  connections: string;
  state: string;
  cells: string[];
};

/** One row of the user's devices table, as text. */
export type DeviceRow = { conn: string; node: string; cells: string[] };

/** What the live charts read, per second. */
export type Rates = {
  pushes: number;
  deliveries: number;
  connects: number;
  closes: number;
};

/** A console tab. */
export class ConsolePage {
  readonly page: Page;
  readonly origin: string;
  /** Every URL the tab requested, in order. */
  readonly requests: string[] = [];
  /** Content-Security-Policy violations the tab reported. */
  readonly violations: string[] = [];

  private constructor(page: Page, origin: string) {
    this.page = page;
    this.origin = origin;
    page.on("request", (request) => this.requests.push(request.url()));
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) {
        this.violations.push(message.text());
      }
    });
  }

  /** Opens `<base>/console` and, with `key`, types it in. */
  static async open(
    browser: BrowserSession,
    base: string,
    key?: string,
  ): Promise<ConsolePage> {
    const page = await browser.newPage();
    const tab = new ConsolePage(page, new URL(base).origin);
    await page.goto(`${base}/console`);
    if (key !== undefined) await tab.enterKey(key);
    return tab;
  }

  async enterKey(key: string): Promise<void> {
    await this.page.fill("#key", key);
    await this.page.click("#key-form button[type=submit]");
  }

  /** Waits until `check` holds, checking on the page's own state. */
  until<T>(
    check: () => Promise<T>,
    what: string,
    timeout = 15_000,
  ): Promise<NonNullable<T>> {
    return waitFor(check, { what, timeout, interval: 100 });
  }

  status(): Promise<string> {
    return this.page.locator("#status").innerText();
  }

  outcome(): Promise<string> {
    return this.page.locator("#outcome").innerText();
  }

  nodes(): Promise<NodeRow[]> {
    return this.page.$$eval("#nodes tbody tr", (rows) =>
      rows.map((tr) => {
        const cells = [...tr.querySelectorAll("td")].map((td) =>
          td.textContent ?? ""
        );
        return {
          node: tr.getAttribute("data-node") ?? "",
          connections: tr.querySelector(".connections")?.textContent ?? "",
          state: tr.querySelector(".draining-state")?.textContent ?? "",
          cells,
        };
      }));
  }

  /** Text of every cell of `selector`'s body rows. */
  table(selector: string): Promise<string[][]> {
    return this.page.$$eval(
      `${selector} tbody tr`,
      (rows) =>
        rows.map((tr) =>
          [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")
        ),
    );
  }

  /**
   * Chart readings (per second) by series name: the latest, or the peak of
   * the chart's minute (a rate shows for one refresh, its peak stays).
   */
  async rates(which: "now" | "peak" = "now"): Promise<Rates> {
    const texts: [string, string][] = await this.page.$$eval(
      "figure[data-series]",
      (figures, selector) =>
        figures.map((f) => [
          f.getAttribute("data-series") ?? "",
          f.querySelector(selector)?.textContent ?? "",
        ]),
      which === "now" ? "figcaption b" : "figcaption small",
    );
    return Object.fromEntries(
      texts.map(([name, text]) => [name, Number(text.replace("peak ", ""))]),
    ) as Rates;
  }

  /** Looks `user` up and waits for its section to show it. */
  async lookUp(user: string): Promise<void> {
    await this.page.fill("#user-id", user);
    await this.page.click("#user-form button[type=submit]");
    await this.until(
      async () =>
        await this.page.locator("#user-result").isVisible() &&
        await this.page.locator("#user-name").innerText() === user,
      `the lookup of ${user}`,
    );
  }

  devices(): Promise<DeviceRow[]> {
    return this.page.$$eval(
      "#user-devices tbody tr",
      (rows) =>
        rows.map((tr) => ({
          conn: tr.getAttribute("data-conn") ?? "",
          node: tr.getAttribute("data-node") ?? "",
          cells: [...tr.querySelectorAll("td")].map((td) =>
            td.textContent ?? ""
          ),
        })),
    );
  }

  /** Answers the open confirmation dialog; returns the question it asked. */
  async answer(confirm: boolean): Promise<string> {
    const dialog = this.page.locator("#confirm");
    await this.until(() => dialog.isVisible(), "the confirmation dialog");
    const question = await this.page.locator("#confirm-text").innerText();
    await this.page.click(confirm ? "#confirm-ok" : "#confirm-cancel");
    await this.until(async () => !await dialog.isVisible(), "dialog closed");
    return question;
  }

  /** Pushes `data` to the looked-up user through the console, confirmed. */
  async push(data: unknown): Promise<string> {
    await this.page.fill("#push-data", JSON.stringify(data));
    await this.page.click("#push-form button[type=submit]");
    await this.answer(true);
    return await this.until(
      async () => {
        const text = await this.outcome();
        return /^Pushed|failed/.test(text) ? text : undefined;
      },
      "the push's answer",
    );
  }

  /** Clicks Disconnect on the device row of `connId`, then answers. */
  async disconnectDevice(connId: string, confirm = true): Promise<string> {
    await this.page.click(
      `#user-devices tr[data-conn="${connId}"] [data-testid=disconnect-device]`,
    );
    return await this.answer(confirm);
  }

  /** Clicks Drain on the row of `nodeId`, then answers. */
  async drain(nodeId: string, confirm = true): Promise<string> {
    await this.page.click(
      `#nodes tr[data-node="${nodeId}"] [data-testid=drain]`,
    );
    return await this.answer(confirm);
  }

  /** Requests the tab sent to any other origin. */
  foreignRequests(): string[] {
    return this.requests.filter((url) =>
      !url.startsWith("data:") && new URL(url).origin !== this.origin
    );
  }
}
