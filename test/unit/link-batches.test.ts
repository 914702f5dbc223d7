import { describe, expect, it } from 'vitest';
import { matchColumns } from '../../src/client/columns.js';
import type { ResultRow } from '../../src/client/in-order.js';
import { keptRow, LINK_COLUMNS, linkBatches, type LinkSlot } from '../../src/client/link-batches.js';

// How `link` turns rows into requests: the same batches in every run, so that a batch sent
// again carries the same body and the same Idempotency-Key.
const columns = matchColumns(['mobile', 'partnerProgramName'], LINK_COLUMNS, 'members.csv');

function slotsOf(rows: number, settled: ReadonlySet<number> = new Set()): LinkSlot[] {
  return Array.from({ length: rows }, (_, i) => {
    const number = i + 1;
    const cells = [`91940000${String(number).padStart(4, '0')}`, 'Goldstar'];
    return {
      number,
      cells,
      malformed: false,
      ...(settled.has(number) ? { result: keptRow([...cells, '1000', '200', 'linked before']) } : {}),
    };
  });
}

async function* streamOf(slots: LinkSlot[]) {
  yield* slots;
}

interface Sent {
  body: string;
  key: string;
}

/** Runs every batch of `slots`, answering each sent row with code 200, and tells what was sent. */
async function run(slots: LinkSlot[]): Promise<{ sent: Sent[]; results: ResultRow[] }> {
  const sent: Sent[] = [];
  const results: ResultRow[] = [];
  const send = async (body: string, key: string, items: Array<{ slots: LinkSlot[] }>) => {
    sent.push({ body, key });
    return items.map((item) =>
      item.slots.map((slot) => ({
        cells: [...slot.cells, '1000', '200', 'sent now'],
        tally: { succeeded: true, code: '200' },
      })),
    );
  };
  for await (const batch of linkBatches(streamOf(slots), columns, send)) results.push(...(await batch()));
  return { sent, results };
}

describe('link batches', () => {
  it('are 50 customers each, and the same in every run', async () => {
    const first = await run(slotsOf(120));
    const again = await run(slotsOf(120));
    expect(first.sent.map((s) => JSON.parse(s.body).linkCustomers.length)).toEqual([50, 50, 20]);
    expect(again.sent).toEqual(first.sent);
    expect(new Set(first.sent.map((s) => s.key)).size).toBe(3);
  });

  it('send a partly settled batch whole, under its first key, and keep the settled rows as they were', async () => {
    const first = await run(slotsOf(120));
    // A run killed while it wrote the second batch's results: rows 1-50 and 51-60 are settled.
    const settled = new Set(Array.from({ length: 60 }, (_, i) => i + 1));
    const resumed = await run(slotsOf(120, settled));
    expect(resumed.sent).toEqual(first.sent.slice(1));
    expect(resumed.results.map((row) => row.cells.at(-1))).toEqual([
      ...Array<string>(60).fill('linked before'),
      ...Array<string>(60).fill('sent now'),
    ]);
  });

  it('send nothing of a batch whose rows are all settled', async () => {
    const settled = new Set(Array.from({ length: 120 }, (_, i) => i + 1));
    const { sent, results } = await run(slotsOf(120, settled));
    expect(sent).toEqual([]);
    expect(results).toHaveLength(120);
  });
});
