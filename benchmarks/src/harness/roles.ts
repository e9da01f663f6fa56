// The code an agent process can run, by module name. Loaded lazily so an agent that only runs a baseline never
// imports a product package (which may not be built yet), and so a missing package fails one call, not the agent.
export const roleModules = {
  'unix-fanout': () => import('../baselines/unix-fanout.js'),
  'ws-fanout': () => import('../baselines/ws-fanout.js'),
  'ws-relay-hub': () => import('../baselines/ws-relay-hub.js'),
  micro: () => import('../baselines/micro.js'),
  codec: () => import('../suites/codec-roles.js'),
  'shm-ring': () => import('../suites/shm-queue-roles.js'),
  proxy: () => import('../suites/proxy-roles.js'),
  'e2e-latency': () => import('../suites/e2e-latency-roles.js'),
  adapter: () => import('../suites/adapter-roles.js'),
} as const;

export type RoleModuleName = keyof typeof roleModules;
