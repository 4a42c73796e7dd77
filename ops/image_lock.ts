/**
 * `deno task image:lock`: writes `deploy/image/deno.lock`, the lock file of
 * the image's import map (`deploy/image/deno.json`, runtime packages only).
 * It starts from the repository's `deno.lock`, so the image gets exactly the
 * versions the tests ran against; Deno drops the packages only tests, the
 * bench and the demo use. Run it after changing `deno.lock` or the image's
 * imports; `tests/integration/ops_image.test.ts` fails until you do.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** Regenerates the image's lock file; resolves with its text. */
export async function updateImageLock(): Promise<string> {
  const temp = await Deno.makeTempDir({ prefix: "wsgw-image-lock-" });
  try {
    await Deno.copyFile(
      new URL("deploy/image/deno.json", ROOT),
      `${temp}/deno.json`,
    );
    await Deno.copyFile(new URL("deno.lock", ROOT), `${temp}/deno.lock`);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["install", "--quiet"],
      cwd: temp,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(
        `deno install for the image failed:\n${
          new TextDecoder().decode(stderr)
        }`,
      );
    }
    const lock = await Deno.readTextFile(`${temp}/deno.lock`);
    await Deno.writeTextFile(new URL("deploy/image/deno.lock", ROOT), lock);
    return lock;
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
}

if (import.meta.main) {
  await updateImageLock();
}
