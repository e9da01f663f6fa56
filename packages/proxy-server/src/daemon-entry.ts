import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the `wsproxy` CLI script, for clients that spawn the daemon with `process.execPath`
 * (`node <daemonEntryPath> start ...`). Resolved next to this bundle, so it works from ESM and CommonJS alike.
 */
export const daemonEntryPath: string = join(dirname(fileURLToPath(import.meta.url)), 'cli.js');

/** Exit code of `wsproxy start` when a live daemon already serves the namespace (not a failure for spawners). */
export const EXIT_ALREADY_RUNNING = 3;
