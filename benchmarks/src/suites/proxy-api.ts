// The slice of @wsproxy/client the benchmarks use, typed structurally and probed at run time (see shm-queue-api).

export type SocketMessage = { binary: false; data: string } | { binary: true; data: Buffer };

export interface SharedSocketApi {
  on(event: 'message', listener: (message: SocketMessage) => void): unknown;
  on(event: 'gap', listener: (info: { lostMessages: number }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): Promise<void>;
}

export interface WsproxyClientApi {
  readonly daemonPid: number;
  open(url: string): Promise<SharedSocketApi>;
  status(): Promise<{ daemon: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface ClientApi {
  connect(options: {
    namespace: string;
    runtimeDir: string;
    name?: string;
    daemonArgs?: string[];
    idle?: 'block' | 'spin' | 'backoff';
    connectTimeoutMs?: number;
  }): Promise<WsproxyClientApi>;
}

export async function loadClient(): Promise<ClientApi | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier('@wsproxy/client'))) as Record<string, unknown>;
  } catch (err) {
    return `@wsproxy/client cannot be imported (${err instanceof Error ? err.message.split('\n')[0] : err}); run \`pnpm build\` first`;
  }
  if (typeof mod.connect !== 'function') return '@wsproxy/client does not export connect() yet';
  return mod as unknown as ClientApi;
}

/** A non-literal specifier: the package is probed at run time, so the type-check must not depend on its build. */
function specifier(name: string): string {
  return name;
}
