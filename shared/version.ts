/**
 * The wsgw release: the `version` of deno.json (in the image, of the image's
 * deno.json, which the image test keeps equal), shown in `/healthz` and in
 * the `wsgw_build_info` metric.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** The release of this build, e.g. "0.1.0" (CHANGELOG.md). */
export const VERSION: string = config.version;
