import { citusCluster } from './database.js';

/** The citus project's setup: the cluster is started (built once per machine) before any test file runs. */
export default async function startCitusCluster(): Promise<void> {
  await citusCluster('start');
}
