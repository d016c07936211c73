import { connectsDue } from '../../load/pace.js';

// The load driver's ramp: `--connect-rate R` over W workers must open R per second in total, whatever R / W is.
describe('connectsDue', () => {
  it('opens the first client at once and then exactly `rate` per second, also for rates under one per tick', () => {
    for (const rate of [0.5, 3, 15, 37.5, 300, 2500]) {
      expect(connectsDue(rate, 0, 1e9)).toBe(1);
      expect(connectsDue(rate, 10_000, 1e9)).toBe(Math.floor(rate * 10) + 1);
    }
  });

  it('never exceeds the clients the worker holds and never goes backwards', () => {
    let last = 0;
    for (let ms = -20; ms < 5000; ms += 20) {
      const due = connectsDue(15, ms, 40);
      expect(due).toBeGreaterThanOrEqual(last);
      expect(due).toBeLessThanOrEqual(40);
      last = due;
    }
    expect(last).toBe(40);
  });
});
