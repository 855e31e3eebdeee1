import { EventEmitter } from 'node:events';
import { stopStacksOnSignal } from './stack';

/** Waits until queued promise callbacks have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('stopStacksOnSignal', () => {
  function setUp() {
    const target = new EventEmitter();
    const stopped: string[] = [];
    const exits: number[] = [];
    const stacks = new Set([
      {
        stop: () => {
          stopped.push('first');
          return Promise.resolve();
        },
      },
      {
        stop: () => {
          stopped.push('second');
          return Promise.reject(new Error('already gone'));
        },
      },
    ]);
    stopStacksOnSignal(target, (code) => exits.push(code), stacks);
    return { target, stopped, exits };
  }

  it('stops every stack on SIGTERM, then exits 143', async () => {
    const { target, stopped, exits } = setUp();

    target.emit('SIGTERM');
    await settle();

    expect(stopped).toEqual(['first', 'second']);
    expect(exits).toEqual([143]);
  });

  it('exits 130 on SIGINT', async () => {
    const { target, exits } = setUp();

    target.emit('SIGINT');
    await settle();

    expect(exits).toEqual([130]);
  });

  it('does nothing without a signal', async () => {
    const { stopped, exits } = setUp();

    await settle();

    expect(stopped).toEqual([]);
    expect(exits).toEqual([]);
  });
});
