import { HistoryLedger } from '../../src/broker/history-ledger.js';

test('over the budget the oldest entries are handed back for deletion, whatever their stream; expired ones stop counting', () => {
  const ledger = new HistoryLedger(1000, 60_000);
  expect(ledger.add('a', '1-0', 400, 0)).toEqual([]);
  expect(ledger.add('b', '2-0', 400, 1000)).toEqual([]);
  // 1,200 > 1,000: the oldest (stream a) goes.
  expect(ledger.add('c', '3-0', 400, 2000)).toEqual([{ key: 'a', id: '1-0' }]);
  expect(ledger.held).toBe(800);
  // b and c expire from Redis at 61 s and 62 s: past that they no longer count, and a big one fits without drops.
  ledger.expire(62_001);
  expect(ledger.held).toBe(0);
  expect(ledger.add('d', '4-0', 900, 62_001)).toEqual([]);
  // One entry bigger than the whole budget is handed back at once.
  expect(ledger.add('e', '5-0', 2000, 62_002)).toEqual([{ key: 'd', id: '4-0' }, { key: 'e', id: '5-0' }]);
  expect(ledger.held).toBe(0);
});

test('a budget of 0 counts nothing and drops nothing', () => {
  const ledger = new HistoryLedger(0, 60_000);
  expect(ledger.add('a', '1-0', 1e9, 0)).toEqual([]);
  expect(ledger.held).toBe(0);
});
