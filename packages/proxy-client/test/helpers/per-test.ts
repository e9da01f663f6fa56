import { afterEach, beforeEach } from 'vitest';
import { FAST_DAEMON_ARGS, TestEnvironment } from './environment.js';
import { UpstreamServer } from './upstream-server.js';

/** What every test of a suite gets fresh: its own environment (daemon, strategies) and its own upstream server. */
export interface PerTestWorld {
  readonly env: TestEnvironment;
  readonly upstream: UpstreamServer;
}

/**
 * Call inside a `describe`: before each test it creates a new environment with `daemonArgs` and starts an
 * upstream server; after each test it cleans the environment up and stops the server. Read `env` and `upstream`
 * from the returned object inside the tests (they change from test to test).
 */
export function perTestWorld(daemonArgs: readonly string[] = FAST_DAEMON_ARGS): PerTestWorld {
  const world = {} as { env: TestEnvironment; upstream: UpstreamServer };
  beforeEach(async () => {
    world.env = new TestEnvironment(daemonArgs);
    world.upstream = await new UpstreamServer().start();
  });
  afterEach(async () => {
    await world.env.cleanup();
    await world.upstream.stop();
  });
  return world;
}
