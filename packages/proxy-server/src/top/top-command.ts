// `wsproxy top`: asks the daemon for its status once per interval and redraws. In a terminal it takes the alternate
// screen and reads single keys (q or Ctrl-C quits, and the terminal is given back as it was); otherwise it prints
// each refresh as plain lines, for logs and pipes.

import { fetchStatus } from '../control-client.js';
import { InvalidArgumentError } from '../errors.js';
import { renderTop, type TopSample } from './top-view.js';

export interface TopOptions {
  readonly socketPath: string;
  /** Milliseconds between refreshes. Default 1000. */
  readonly intervalMs?: number;
  /** Stop after this many refreshes (default: until q, Ctrl-C or a signal). */
  readonly count?: number;
  readonly input?: NodeJS.ReadStream;
  readonly output?: NodeJS.WriteStream;
}

const ENTER_SCREEN = '\u001b[?1049h\u001b[?25l';
const LEAVE_SCREEN = '\u001b[?25h\u001b[?1049l';
const HOME_AND_CLEAR = '\u001b[H\u001b[2J';

/** Runs until quit; resolves with the exit code (1 when the daemon was not reachable at the first refresh). */
export async function runTop(options: TopOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const interactive = Boolean(output.isTTY && input.isTTY);
  const intervalMs = options.intervalMs ?? 1000;
  if (intervalMs < 100)
    throw new InvalidArgumentError(`--interval must be at least 100 ms; got ${intervalMs}`);
  let previous: TopSample | undefined;
  let refreshes = 0;
  let finished = false;
  let stop: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    stop = (code) => {
      finished = true;
      resolve(code);
    };
  });

  const onKey = (key: Buffer) => {
    // q, Q, Ctrl-C (raw mode delivers it as a byte, not as SIGINT).
    if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03)) stop(0);
  };
  const onSignal = () => stop(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (interactive) {
    output.write(ENTER_SCREEN);
    input.setRawMode(true);
    input.resume();
    input.on('data', onKey);
  }

  const refresh = async (): Promise<number | undefined> => {
    let lines: string[];
    try {
      if (finished) return undefined;
      const current = { status: await fetchStatus(options.socketPath), at: Date.now() };
      lines = renderTop(current, previous);
      previous = current;
    } catch (error) {
      if (refreshes === 0) {
        return 1;
      }
      previous = undefined;
      lines = [`wsproxy top: the daemon is not reachable (${(error as Error).message}); retrying`];
    }
    refreshes++;
    if (interactive) output.write(`${HOME_AND_CLEAR}${lines.join('\r\n')}\r\n\r\nq to quit`);
    else output.write(`${lines.join('\n')}\n\n`);
    return options.count !== undefined && refreshes >= options.count ? 0 : undefined;
  };

  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (finished) return;
    const done = await refresh();
    if (done !== undefined) stop(done);
    else if (!finished) timer = setTimeout(() => void loop(), intervalMs);
  };
  void loop();
  const code = await stopped;
  clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (interactive) {
    input.off('data', onKey);
    input.setRawMode(false);
    input.pause();
    output.write(LEAVE_SCREEN);
  }
  if (code === 1 && refreshes === 0) console.error('no wsproxy daemon is running');
  return code;
}
