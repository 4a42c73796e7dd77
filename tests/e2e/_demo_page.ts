/**
 * The demo page as the browser tests see it: what its DOM shows (state,
 * message log, cover cards, devices) and what it does (upload), plus a
 * test cover image and a script-side client of the demo service.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { encodeImage } from "../../demo/image/codec.ts";
import {
  type BrowserSession,
  type PageSocket,
  webSockets,
} from "../_support/browser.ts";
import { waitFor } from "../_support/until.ts";

/** One message in the page's log: its seq and the history epoch it belongs to. */
export type Logged = { seq: number; epoch: string };
/** One cover card. */
export type Card = { job: string; status: string; devices: number | null };

/** A tab showing the demo page. */
export class DemoPage {
  constructor(readonly page: Page, readonly device: string) {}

  /** Opens `base/?user=…&device=…` and waits for the connection to open. */
  static async open(
    browser: BrowserSession,
    base: string,
    user: string,
    device: string,
  ): Promise<DemoPage> {
    const page = await browser.newPage();
    const demo = new DemoPage(page, device);
    await page.goto(`${base}/?${new URLSearchParams({ user, device })}`);
    await demo.until(
      async () => await demo.state() === "connected",
      "state connected",
    );
    return demo;
  }

  /** The connection pill: `connecting`, `open` or `closed`. */
  state(): Promise<string> {
    return this.page.locator("#state").innerText();
  }

  /** The messages in the log, oldest first. */
  messages(): Promise<Logged[]> {
    return this.page.$$eval(
      "#log li.msg",
      (items) =>
        items.reverse().map((li) => ({
          seq: Number(li.getAttribute("data-seq")),
          epoch: li.getAttribute("data-epoch")!,
        })),
    );
  }

  /** The cover cards, newest first. */
  covers(): Promise<Card[]> {
    return this.page.$$eval("#covers .cover", (cards) =>
      cards.map((card) => {
        const devices = card.querySelector(".push")?.getAttribute(
          "data-devices",
        );
        return {
          job: card.getAttribute("data-job")!,
          status: card.getAttribute("data-status")!,
          devices: devices ? Number(devices) : null,
        };
      }));
  }

  /** The devices listed under "Devices of …". */
  deviceCount(): Promise<number> {
    return this.page.locator("#devices li:has(.sub)").count();
  }

  /** True once the result image of `job` has loaded in the page. */
  resultLoaded(job: string): Promise<boolean> {
    return this.page.$eval(
      `#covers .cover[data-job="${job}"] .pic img:not(.before)`,
      (img) =>
        (img as unknown as { complete: boolean; naturalWidth: number })
          .complete &&
        (img as unknown as { naturalWidth: number }).naturalWidth > 0,
    ).catch(() => false);
  }

  /** Every WebSocket this tab opened, oldest first. */
  sockets(): Promise<PageSocket[]> {
    return webSockets(this.page);
  }

  /** Picks `file` and `filter`, clicks Upload; returns the job id. */
  async upload(
    file: { name: string; mimeType: string; buffer: Uint8Array },
    filter: string,
  ): Promise<string> {
    await this.page.setInputFiles("#file", {
      name: file.name,
      mimeType: file.mimeType,
      buffer: Buffer.from(file.buffer),
    });
    return await this.#submit(filter);
  }

  /** Clicks "Use a sample image" (drawn on a canvas by the page), then Upload. */
  async uploadSample(filter: string): Promise<string> {
    await this.page.click("#sample");
    await this.until(
      async () =>
        (await this.page.locator("#picked").innerText()).startsWith(
          "sample-cover.png",
        ),
      "the sample image picked",
    );
    return await this.#submit(filter);
  }

  async #submit(filter: string): Promise<string> {
    await this.page.click(`#filters label:has(input[value="${filter}"]) span`);
    const answer = this.page.waitForResponse((r) =>
      r.url().endsWith("/demo/uploads")
    );
    await this.page.click("#upload");
    const response = await answer;
    if (response.status() !== 202) {
      throw new Error(
        `upload answered ${response.status()}: ${await response.text()}`,
      );
    }
    return (await response.json()).job.id;
  }

  /** Waits for `predicate` with a deadline; the error names the tab. */
  until<T>(
    predicate: () => Promise<T>,
    what: string,
    timeout = 15_000,
  ): Promise<NonNullable<T>> {
    return waitFor(predicate, {
      what: `${this.device}: ${what}`,
      timeout,
      interval: 50,
    });
  }
}

/**
 * A 480×270 PNG (or JPEG): a sunset gradient with a sun, made here so the test
 * uploads a real file from disk-like bytes.
 */
export function testCover(format: "png" | "jpeg" = "png"): Uint8Array {
  const width = 480, height = 270;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4, t = y / height;
      const sun = Math.hypot(x - 330, y - 170) < 48;
      const hill = y > 210 - 30 * Math.sin(x / 60);
      data[i] = hill ? 40 : sun ? 255 : 40 + 215 * t;
      data[i + 1] = hill ? 30 + x / 12 : sun ? 220 : 50 + 90 * t;
      data[i + 2] = hill ? 70 : sun ? 120 : 160 - 60 * t;
      data[i + 3] = 255;
    }
  }
  return encodeImage(format, { width, height, data });
}

/** A script-side client of the demo service, as a third device of a user. */
export type DemoClient = {
  /** Uploads a PNG; returns the job id. */
  upload(png: Uint8Array, name: string, filter: string): Promise<string>;
  /** The job as the demo service reports it. */
  // deno-lint-ignore no-explicit-any
  job(id: string): Promise<any>;
};

/** The demo service from a script: a token for `user`, then calls with it. */
export async function demoClient(
  base: string,
  user: string,
  device: string,
): Promise<DemoClient> {
  const tokenAnswer = await fetch(`${base}/demo/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, device }),
  });
  if (!tokenAnswer.ok) {
    throw new Error(`token: ${tokenAnswer.status} ${await tokenAnswer.text()}`);
  }
  const { token } = await tokenAnswer.json();
  const authorization = `Bearer ${token}`;
  return {
    async upload(
      png: Uint8Array,
      name: string,
      filter: string,
    ): Promise<string> {
      const form = new FormData();
      form.append(
        "file",
        new File([png as BlobPart], name, { type: "image/png" }),
      );
      form.append("filter", filter);
      const response = await fetch(`${base}/demo/uploads`, {
        method: "POST",
        headers: { authorization },
        body: form,
      });
      if (response.status !== 202) {
        throw new Error(`upload: ${response.status} ${await response.text()}`);
      }
      return (await response.json()).job.id;
    },
    async job(id) {
      const response = await fetch(`${base}/demo/jobs/${id}`, {
        headers: { authorization },
      });
      return (await response.json()).job;
    },
  };
}
