import type { WorkloadId } from '../lib/types.js';
import type { Workload } from '../lib/workload.js';
import { w0 } from './w0.js';
import { w1 } from './w1.js';
import { w2 } from './w2.js';
import { w3, w3s } from './w3.js';
import { w4 } from './w4.js';
import { w5 } from './w5.js';

// Each workload has its own parameter type; the registry only passes them through.
export const WORKLOADS: Readonly<Record<WorkloadId, Workload<any>>> = {
  W0: w0,
  W1: w1,
  W2: w2,
  W3: w3,
  W3s: w3s,
  W4: w4,
  W5: w5,
};
