// The slice of @wsproxy/shm-queue the benchmarks use, typed structurally and probed at run time, so the harness
// type-checks (and reports "not run") before the package lands or if its API moves.

export type IdleStrategy = 'block' | 'spin' | 'backoff';

export interface RingWriterApi {
  write(payload: Uint8Array): boolean;
  /** Hold publication until `uncork()`: one tail store and one doorbell round per batch. */
  cork(): void;
  uncork(): void;
  close(options?: { unlink?: boolean }): void;
}

export interface RingReaderApi {
  poll(
    handler: (buffer: Uint8Array, offset: number, length: number, sequence: number) => void,
    limit?: number,
  ): number;
  ready(): Promise<boolean>;
  /** Whether the record last handed out is still intact (overwrite mode may lap a zero-copy reader). */
  verify(): boolean;
  close(): void;
  readonly lostRecords: number;
}

export interface DoorbellServerApi {
  waitForReaders(count: number): Promise<void>;
  close(): Promise<void>;
}

export interface DoorbellConnectionApi {
  close(): void;
}

export interface SegmentApi {
  readonly buffer: ArrayBuffer;
  close(): void;
}

export interface ShmQueueApi {
  RingWriter: {
    create(options: {
      name: string;
      capacity?: number;
      maxReaders?: number;
      backPressure?: boolean;
    }): RingWriterApi;
  };
  RingReader: { open(options: { name: string; idle?: IdleStrategy }): RingReaderApi };
  DoorbellServer: { listen(options: { writer: RingWriterApi; path?: string }): Promise<DoorbellServerApi> };
  connectDoorbell(reader: RingReaderApi, options?: { path?: string }): Promise<DoorbellConnectionApi>;
  Segment: {
    create(name: string, size: number): SegmentApi;
    open(name: string): SegmentApi;
    unlink(name: string): boolean;
  };
}

export async function loadShmQueue(): Promise<ShmQueueApi | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier('@wsproxy/shm-queue'))) as Record<string, unknown>;
  } catch (err) {
    return `@wsproxy/shm-queue cannot be imported (${err instanceof Error ? err.message.split('\n')[0] : err}); run \`pnpm build\` first`;
  }
  const missing = ['RingWriter', 'RingReader', 'DoorbellServer', 'connectDoorbell', 'Segment'].filter(
    (name) => typeof mod[name] !== 'function',
  );
  if (missing.length > 0) return `@wsproxy/shm-queue does not export ${missing.join(', ')} (not landed yet?)`;
  return mod as unknown as ShmQueueApi;
}

export async function requireShmQueue(): Promise<ShmQueueApi> {
  const api = await loadShmQueue();
  if (typeof api === 'string') throw new Error(api);
  return api;
}

/** A non-literal specifier: the package is probed at run time, so the type-check must not depend on its build. */
function specifier(name: string): string {
  return name;
}
