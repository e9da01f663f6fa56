// A benchmark agent: a plain child process that runs role functions on request from the orchestrator.
// Writers and readers live in agents (never in the orchestrator), so every transport is measured across real
// process boundaries and the orchestrator itself stays idle while a case runs.
import { type RoleModuleName, roleModules } from './roles.js';

export interface CallRequest {
  id: number;
  module: RoleModuleName;
  fn: string;
  args: unknown;
}

export type CallReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

function reply(message: CallReply | { ready: true }): void {
  process.send?.(message);
}

async function handle(request: CallRequest): Promise<void> {
  try {
    const load = roleModules[request.module];
    if (!load) throw new Error(`unknown role module ${request.module}`);
    const mod = (await load()) as unknown as Record<string, unknown>;
    const fn = mod[request.fn];
    if (typeof fn !== 'function') throw new Error(`${request.module} has no function ${request.fn}`);
    const value = await (fn as (args: unknown) => unknown)(request.args);
    reply({ id: request.id, ok: true, value });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ id: request.id, ok: false, error: { name: e.name, message: e.message, stack: e.stack } });
  }
}

process.on('message', (message) => {
  void handle(message as CallRequest);
});
// The orchestrator gone (exit, crash, kill) closes the IPC channel: an agent never outlives it. A reply racing
// that close fails with EPIPE on the channel; the agent is done either way.
process.on('disconnect', () => process.exit(0));
process.on('error', () => process.exit(0));
reply({ ready: true });
