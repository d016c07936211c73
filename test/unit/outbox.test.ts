import { Outbox } from '../../src/redis/outbox.js';

test('frames arriving out of order and twice are written in seq order, once each', () => {
  const written: number[] = [];
  const box = new Outbox(4, (seq) => written.push(seq));
  box.push(6, 'f6'); // live, ahead of the replay
  box.push(3, 'f3'); // the client already has it
  expect(written).toEqual([]);
  expect(box.waiting).toBe(1);
  box.push(4, 'f4');
  box.push(5, 'f5');
  box.push(6, 'f6');
  box.push(5, 'f5');
  box.push(7, 'f7');
  expect(written).toEqual([4, 5, 6, 7]);
  expect(box.expected).toBe(8);
  expect(box.waiting).toBe(0);
});
