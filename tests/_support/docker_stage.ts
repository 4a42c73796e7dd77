/**
 * What `docker build` would see, without a Docker engine: the build context
 * of the committed tree filtered by `.dockerignore` (Docker's rules: a
 * pattern matches a path or any of its parent directories, the last matching
 * line wins, `!` lets a path back in), and the files each `COPY` line of the
 * Dockerfile puts into the image.
 *
 * @module
 */

/** One `COPY` instruction: sources relative to the context, destination. */
export type CopyStep = { sources: string[]; dest: string };

/** The instructions of a Dockerfile, continuation lines joined. */
export function dockerInstructions(
  dockerfile: string,
): { op: string; args: string }[] {
  const joined = dockerfile.replace(/\\\n/g, " ");
  const instructions: { op: string; args: string }[] = [];
  for (const line of joined.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^(\S+)\s+(.*)$/.exec(trimmed);
    if (match) {
      instructions.push({ op: match[1]!.toUpperCase(), args: match[2]! });
    }
  }
  return instructions;
}

/** The `COPY` steps of a Dockerfile (flags such as `--chown` dropped). */
export function copySteps(dockerfile: string): CopyStep[] {
  return dockerInstructions(dockerfile)
    .filter((i) => i.op === "COPY" || i.op === "ADD")
    .map((i) => {
      if (i.op === "ADD") throw new Error(`ADD is not supported: ${i.args}`);
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      if (i.args.includes("--from")) {
        throw new Error(`multi-stage COPY is not supported: ${i.args}`);
      }
      const dest = words.pop()!;
      return { sources: words.map((s) => s.replace(/^\.\//, "")), dest };
    });
}

/** A `.dockerignore` as a predicate: true when `path` stays out of the context. */
export function dockerIgnore(text: string): (path: string) => boolean {
  const rules = text.split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      const pattern = (negated ? line.slice(1) : line).replace(/^\/+/, "")
        .replace(/\/+$/, "");
      return { negated, regex: globRegex(pattern) };
    });
  return (path) => {
    const parts = path.split("/");
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.negated;
    }
    return ignored;
  };
}

function globRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*" && pattern[i + 1] === "*") {
      // `**` spans directories; `**/` may also match nothing.
      const slash = pattern[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Copies into `stage` the files the COPY steps take from `files` (the
 * context's paths, relative, already filtered), as Docker would: a
 * directory source copies its contents, a destination ending in `/` (or a
 * step with several sources) is a directory.
 *
 * @returns the staged paths, relative to `stage`.
 */
export async function stageCopies(
  root: string,
  files: readonly string[],
  steps: readonly CopyStep[],
  stage: string,
): Promise<string[]> {
  const staged: string[] = [];
  for (const { sources, dest } of steps) {
    const intoDir = dest.endsWith("/") || sources.length > 1;
    for (const source of sources) {
      const prefix = source.replace(/\/+$/, "");
      const matched = files.filter((f) =>
        f === prefix || f.startsWith(`${prefix}/`)
      );
      if (matched.length === 0) {
        throw new Error(
          `COPY ${source}: nothing in the build context (is it committed, and let in by .dockerignore?)`,
        );
      }
      for (const file of matched) {
        const target = file === prefix
          ? (intoDir ? `${dest}${file.split("/").pop()}` : dest)
          : `${dest.replace(/\/*$/, "/")}${file.slice(prefix.length + 1)}`;
        const path = `${stage}/${target.replace(/^\.\//, "")}`;
        await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), {
          recursive: true,
        });
        await Deno.copyFile(`${root}${file}`, path);
        staged.push(target.replace(/^\.\//, ""));
      }
    }
  }
  return staged;
}
