import { describe, expect, it } from 'vitest';
import { AckBatch, MAX_ACKS_PER_FRAME } from '../../../src/actors/engines/ack-batch.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AckBatch', () => {
  it('sends the ids added in one turn together, at its end', async () => {
    const sent: [string, string[]][] = [];
    const acks = new AckBatch<string>((conn, ids) => sent.push([conn, ids]));
    acks.add('a', '1');
    acks.add('a', '2');
    acks.add('a', '3');
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual([['a', ['1', '2', '3']]]);
    acks.add('a', '4');
    await turn();
    expect(sent).toEqual([['a', ['1', '2', '3']], ['a', ['4']]]);
  });

  it('keeps connections apart: ids for another one first send those of the previous one', async () => {
    const sent: [string, string[]][] = [];
    const acks = new AckBatch<string>((conn, ids) => sent.push([conn, ids]));
    acks.add('old', '1');
    acks.add('new', '2');
    expect(sent).toEqual([['old', ['1']]]);
    await turn();
    expect(sent).toEqual([['old', ['1']], ['new', ['2']]]);
  });

  it('splits more ids than one frame may carry, and flush sends at once', () => {
    const sent: string[][] = [];
    const acks = new AckBatch<string>((_conn, ids) => sent.push(ids));
    for (let i = 0; i < MAX_ACKS_PER_FRAME + 5; i++) acks.add('a', String(i));
    acks.flush();
    expect(sent.map((ids) => ids.length)).toEqual([MAX_ACKS_PER_FRAME, 5]);
    expect(sent.flat()).toEqual(Array.from({ length: MAX_ACKS_PER_FRAME + 5 }, (_, i) => String(i)));
    acks.flush();
    expect(sent).toHaveLength(2);
  });
});
