import { request as httpRequest, Agent } from 'node:http';
import { linkRequestBody, type LinkSlot, type LinkSlots } from './batches.js';
import { AUTHORIZATION, LINK_PATH } from './http-load.js';
import { epochMs } from './webhook-receiver.js';

/** One link batch of a paced run: when it was sent and answered (epochMs), and how. */
export interface PacedBatch {
  slot: LinkSlot<string>;
  sentAtMs: number;
  respondedAtMs: number;
  status: number | undefined;
  error: string | undefined;
}

export interface PacedRun {
  batches: PacedBatch[];
  /** From the first send to the last answer. */
  seconds: number;
  /** How late the timer sent batches behind their schedule, at worst (ms): the load generator kept up if small. */
  worstLagMs: number;
}

/**
 * Open-loop load: one link batch every `1000 / batchesPerSecond` ms for `seconds`, each sent at its
 * own instant whether or not earlier ones have been answered (a closed loop would slow down with
 * the service and hide its latency). Scheduled against the start, so timer lag does not add up.
 */
export async function runPacedLinks(options: {
  address: string;
  batchesPerSecond: number;
  seconds: number;
  slots: LinkSlots<string>;
}): Promise<PacedRun> {
  const { address, batchesPerSecond, seconds, slots } = options;
  const total = Math.round(batchesPerSecond * seconds);
  const intervalMs = 1000 / batchesPerSecond;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const batches: Array<Promise<PacedBatch>> = [];
  const startedAt = performance.now();
  let worstLagMs = 0;
  try {
    for (let i = 0; i < total; i += 1) {
      const dueAt = startedAt + i * intervalMs;
      const wait = dueAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      worstLagMs = Math.max(worstLagMs, performance.now() - dueAt);
      batches.push(sendBatch(address, agent, slots.take()));
    }
    const done = await Promise.all(batches);
    const first = Math.min(...done.map((b) => b.sentAtMs));
    const last = Math.max(...done.map((b) => b.respondedAtMs));
    return { batches: done, seconds: (last - first) / 1000, worstLagMs };
  } finally {
    agent.destroy();
  }
}

function sendBatch(address: string, agent: Agent, slot: LinkSlot<string>): Promise<PacedBatch> {
  const body = linkRequestBody(slot);
  const sentAtMs = epochMs();
  return new Promise((resolve) => {
    const finish = (status: number | undefined, error: string | undefined) =>
      resolve({ slot, sentAtMs, respondedAtMs: epochMs(), status, error });
    const request = httpRequest(
      `${address}${LINK_PATH}`,
      {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: AUTHORIZATION,
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => finish(response.statusCode, undefined));
        response.once('error', (error) => finish(response.statusCode, error.message));
      },
    );
    request.once('timeout', () => request.destroy(new Error('no answer within 30 s')));
    request.once('error', (error) => finish(undefined, error.message));
    request.end(body);
  });
}
