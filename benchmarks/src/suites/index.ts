// The suites, in the order they run: cheap in-process ones first, multi-process ones after.
import type { Suite } from '../harness/suite.js';
import { adapterSuite } from './adapter.js';
import { codecSuite } from './codec.js';
import { e2eLatencySuite } from './e2e-latency.js';
import { floorsSuite } from './floors.js';
import { metricsSuite } from './metrics-scrape.js';
import { proxySuite } from './proxy.js';
import { shmQueueSuite } from './shm-queue.js';

export const suites: readonly Suite[] = [
  floorsSuite,
  codecSuite,
  adapterSuite,
  shmQueueSuite,
  proxySuite,
  e2eLatencySuite,
  metricsSuite,
];
