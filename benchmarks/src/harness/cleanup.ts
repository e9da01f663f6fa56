// Everything a benchmark creates outside its own memory (child processes, temp folders with socket files, shared
// memory segments) is registered here, so an error, a timeout or Ctrl-C still leaves the machine as it was.
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Disposer = () => void;

const disposers = new Set<Disposer>();
let hooked = false;

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', runAllDisposers);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAllDisposers();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Registers a synchronous disposer; returns a function that runs it once and unregisters it. */
export function onCleanup(dispose: Disposer): Disposer {
  hookProcessExit();
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    disposers.delete(once);
    try {
      dispose();
    } catch {
      // Cleanup is best effort: one failed unlink must not stop the others.
    }
  };
  disposers.add(once);
  return once;
}

export function runAllDisposers(): void {
  for (const dispose of [...disposers]) dispose();
}

/** A private (0700) temp folder for socket files, removed at cleanup. */
export function privateTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wsproxy-bench-${label}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Removes /dev/shm entries starting with `prefix` (segments a crashed run may have left behind). */
export function removeShmSegments(prefix: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      unlinkSync(join('/dev/shm', name));
      removed++;
    } catch {
      // Already gone, or not ours to remove.
    }
  }
  return removed;
}
