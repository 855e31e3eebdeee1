import { WorkspaceLimiter } from './workspace-limiter';

it('probe pause', async () => {
  for (let run = 0; run < 3; run++) {
  const limiter = new WorkspaceLimiter({ limit: 50, headroom: 1, minShare: 0.05, increasePerSecond: 0.05, decreaseFactor: 0.5 });
  const starts: number[] = [];
  const t0 = performance.now();
  const tasks = Array.from({ length: 20 }, () => limiter.schedule(() => { starts.push(performance.now()); return Promise.resolve(); }));
  await new Promise((r) => setTimeout(r, 100));
  const pausedAt = performance.now();
  limiter.throttled(500);
  await Promise.all(tasks);
  console.log(Math.round(pausedAt - t0), starts.map((s) => Math.round(s - pausedAt)));
  await limiter.stop();
  }
});
