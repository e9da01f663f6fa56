// Agent side of the adapter suite: items routed per second by the product router and by the naive one, on the
// same frames and subscriptions, in the same process (the orchestrator alternates the calls).
import {
  type Encoding,
  ITEMS_PER_FRAME,
  type Subscriptions,
  workload,
} from '../baselines/alpaca-workload.js';
import { NaiveRouter } from '../baselines/naive-router.js';
import { opsPerSecond } from '../harness/micro.js';

interface RoutedRecord {
  recipients: readonly unknown[];
  bytes: Uint8Array;
}

interface AlpacaRouterApi {
  setRoutingTable(table: Subscriptions): void;
  route(frame: Uint8Array): { records: RoutedRecord[] };
}

export interface AdapterApi {
  AlpacaRouter: new (options: { feed: 'stocks'; encoding: Encoding }) => AlpacaRouterApi;
}

export async function loadAdapter(): Promise<AdapterApi | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier('@wsproxy/alpaca-adapter'))) as Record<string, unknown>;
  } catch (err) {
    return `@wsproxy/alpaca-adapter cannot be imported (${err instanceof Error ? err.message.split('\n')[0] : err}); run \`pnpm build\` first`;
  }
  if (typeof mod.AlpacaRouter !== 'function')
    return '@wsproxy/alpaca-adapter does not export AlpacaRouter yet';
  return mod as unknown as AdapterApi;
}

const routers = new Map<string, { route(frame: Buffer): number; frames: Buffer[] }>();

async function router(kind: 'product' | 'naive', encoding: Encoding) {
  const key = `${kind}/${encoding}`;
  let r = routers.get(key);
  if (!r) {
    const w = workload(encoding);
    if (kind === 'naive') {
      const naive = new NaiveRouter(encoding, w.subs);
      r = { route: (frame) => naive.route(frame), frames: w.frames };
    } else {
      const api = await loadAdapter();
      if (typeof api === 'string') throw new Error(api);
      const product = new api.AlpacaRouter({ feed: 'stocks', encoding });
      product.setRoutingTable(w.subs);
      r = {
        route: (frame) => {
          let produced = 0;
          for (const record of product.route(frame).records) produced += record.bytes.length;
          return produced;
        },
        frames: w.frames,
      };
    }
    routers.set(key, r);
  }
  return r;
}

/** Items routed per second by one router over the shared frames. */
export async function itemsPerSecond(args: { kind: 'product' | 'naive'; encoding: Encoding; ms: number }) {
  const r = await router(args.kind, args.encoding);
  const { frames } = r;
  let f = 0;
  const framesPerSecond = opsPerSecond((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += r.route(frames[f]!);
      f = f + 1 === frames.length ? 0 : f + 1;
    }
    return sum;
  }, args.ms);
  return framesPerSecond * ITEMS_PER_FRAME;
}

/** A non-literal specifier: the package is probed at run time, so the type-check must not depend on its build. */
function specifier(name: string): string {
  return name;
}
