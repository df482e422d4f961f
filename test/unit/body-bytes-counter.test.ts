/**
 * bodyBytesCounter (src/context.ts): the injected young-generation sweep runs once per `everyBytes` of body,
 * whatever the chunk sizes. Without a sweep nothing is collected: test/integration/young-generation-sweep.test.ts.
 */
import { bodyBytesCounter } from '../../src/context';

describe('bodyBytesCounter', () => {
  it.each([
    { chunks: [1, 1, 1], everyBytes: 4, collections: 0 },
    { chunks: [1, 1, 1, 1], everyBytes: 4, collections: 1 },
    { chunks: [3, 3, 3, 3], everyBytes: 4, collections: 2 },
    { chunks: [4, 4, 4], everyBytes: 4, collections: 3 },
    { chunks: [10], everyBytes: 4, collections: 1 },
    { chunks: [2, 2, 2, 2, 2, 2, 2, 2], everyBytes: 4, collections: 4 },
  ])('$chunks every $everyBytes bytes → $collections collections', ({ chunks, everyBytes, collections }) => {
    let collected = 0;
    const count = bodyBytesCounter({ everyBytes, collect: () => (collected += 1) });
    for (const size of chunks) count(size);
    expect(collected).toBe(collections);
  });
});
