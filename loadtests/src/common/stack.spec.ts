import { EventEmitter } from 'node:events';
import { StackRegistry, stopStacksOnSignal } from './stack';

/** Waits until queued promise callbacks have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Returns a stack that records its stop under `name`. With `fails`, the stop rejects. */
function fakeStack(name: string, stopped: string[], fails = false) {
  return {
    stop: () => {
      stopped.push(name);
      return fails ? Promise.reject(new Error('already gone')) : Promise.resolve();
    },
  };
}

describe('stopStacksOnSignal', () => {
  async function setUp() {
    const target = new EventEmitter();
    const stopped: string[] = [];
    const exits: number[] = [];
    const registry = new StackRegistry();
    await registry.track(() => Promise.resolve(fakeStack('first', stopped)));
    await registry.track(() => Promise.resolve(fakeStack('second', stopped, true)));
    stopStacksOnSignal(target, (code) => exits.push(code), registry);
    return { target, stopped, exits, registry };
  }

  it('stops every stack on SIGTERM, then exits 143', async () => {
    const { target, stopped, exits } = await setUp();

    target.emit('SIGTERM');
    await settle();

    expect(stopped).toEqual(['first', 'second']);
    expect(exits).toEqual([143]);
  });

  it('exits 130 on SIGINT', async () => {
    const { target, exits } = await setUp();

    target.emit('SIGINT');
    await settle();

    expect(exits).toEqual([130]);
  });

  it('does nothing without a signal', async () => {
    const { stopped, exits } = await setUp();

    await settle();

    expect(stopped).toEqual([]);
    expect(exits).toEqual([]);
  });

  it('ignores a second signal', async () => {
    const { target, stopped, exits } = await setUp();

    target.emit('SIGINT');
    target.emit('SIGTERM');
    await settle();

    expect(stopped).toEqual(['first', 'second']);
    expect(exits).toEqual([130]);
  });

  it('stops a stack still starting', async () => {
    const { target, stopped, exits, registry } = await setUp();
    let finishStart: () => void = () => undefined;
    const starting = registry.track(
      () =>
        new Promise<ReturnType<typeof fakeStack>>((resolve) => {
          finishStart = () => {
            resolve(fakeStack('late', stopped));
          };
        }),
    );

    target.emit('SIGINT');
    await settle();
    expect(exits).toEqual([]);
    finishStart();
    await starting;
    await settle();

    expect(stopped).toEqual(['first', 'second', 'late']);
    expect(exits).toEqual([130]);
  });

  it('rejects starts after a signal', async () => {
    const { target, registry } = await setUp();
    const start = jest.fn(() => Promise.resolve(fakeStack('never', [])));

    target.emit('SIGINT');

    await expect(registry.track(start)).rejects.toThrow('this run is stopping after a signal');
    expect(start).not.toHaveBeenCalled();
  });
});
