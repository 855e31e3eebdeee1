import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { encodePersonHashes, hashPerson, Headers } from '@cio-pipeline/schemas';
import { readSenderConfig } from '../config/sender-config';
import type { DeadLetterWriter } from '../delivery/dead-letter.writer';
import {
  ShutdownError,
  type DeliveryJob,
  type DeliveryService,
} from '../delivery/delivery.service';
import { BatchesService } from './batches.service';

function message(offset: number, person: string, workspace = 'site'): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from(workspace),
    value: Buffer.from('{"batch":[]}'),
    timestamp: '0',
    attributes: 0,
    headers: {
      [Headers.workspace]: workspace,
      [Headers.operationCount]: '1',
      [Headers.personHashes]: encodePersonHashes(Uint32Array.of(hashPerson(person))),
    },
  };
}

function payloadOf(messages: KafkaMessage[], resolved: string[]): EachBatchPayload {
  return {
    batch: { topic: 'batches', partition: 0, messages },
    resolveOffset: (offset: string) => resolved.push(offset),
    heartbeat: () => Promise.resolve(),
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
}

describe('BatchesService', () => {
  const config = readSenderConfig({
    CIO_WORKSPACES: 'site:key:us:100,other:other-key:us:100',
    SENDER_MAX_IN_FLIGHT_PER_WORKSPACE: '2',
  });
  const writer = { write: () => Promise.resolve() } as unknown as DeadLetterWriter;

  function serviceWith(
    deliver: (job: DeliveryJob) => Promise<void>,
    options: { config?: typeof config; startDelayMs?: number } = {},
  ) {
    const limiter = { startDelayMs: () => options.startDelayMs ?? 0 };
    const delivery = { deliver, limiterOf: () => limiter } as unknown as DeliveryService;
    const commits: string[] = [];
    const consumer = {
      commitOffsets: (offsets: { offset: string }[]) => {
        commits.push(...offsets.map((entry) => entry.offset));
        return Promise.resolve();
      },
    } as unknown as Consumer;
    const service = new BatchesService(options.config ?? config, delivery, writer);
    return { service, consumer, commits };
  }

  it('commits after every batch is delivered', async () => {
    const { service, consumer, commits } = serviceWith(() => Promise.resolve());
    const resolved: string[] = [];

    await service.consume(
      payloadOf([message(0, 'a'), message(1, 'b'), message(2, 'c')], resolved),
      consumer,
    );

    expect(commits.at(-1)).toBe('3');
    expect(resolved.at(-1)).toBe('2');
  });

  it('never resolves past an unfinished batch', async () => {
    const { service, consumer, commits } = serviceWith((job) =>
      job.source.offset === '1' ? Promise.reject(new ShutdownError()) : Promise.resolve(),
    );
    const resolved: string[] = [];

    const consumed = service.consume(
      payloadOf([message(0, 'a'), message(1, 'b'), message(2, 'c')], resolved),
      consumer,
    );

    await expect(consumed).rejects.toThrow(ShutdownError);
    expect(Math.max(...resolved.map(Number))).toBe(0);
    expect(Math.max(...commits.map(Number))).toBe(1);
  });

  it('holds a batch about someone in flight', async () => {
    const started: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const { service, consumer } = serviceWith(async (job) => {
      started.push(job.source.offset);
      if (job.source.offset === '0') {
        await new Promise<void>((resolve) => {
          releaseFirst = resolve;
        });
      }
    });

    const consumed = service.consume(
      payloadOf([message(0, 'a'), message(1, 'b'), message(2, 'a')], []),
      consumer,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(started).toEqual(['0', '1']);
    releaseFirst();
    await consumed;
    expect(started).toEqual(['0', '1', '2']);
  });

  it('lets other workspaces pass a held batch', async () => {
    const started: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const { service, consumer, commits } = serviceWith(async (job) => {
      started.push(job.source.offset);
      if (job.source.offset === '0') {
        await new Promise<void>((resolve) => {
          releaseFirst = resolve;
        });
      }
    });

    // Offset 1 waits for offset 0 (same person); offset 2 belongs to another workspace.
    const consumed = service.consume(
      payloadOf([message(0, 'a'), message(1, 'a'), message(2, 'a', 'other')], []),
      consumer,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(started).toEqual(['0', '2']);
    expect(commits).toEqual([]);
    releaseFirst();
    await consumed;
    expect(started).toEqual(['0', '2', '1']);
    expect(commits.at(-1)).toBe('3');
  });

  it('limits batches in flight per workspace', async () => {
    const started: string[] = [];
    const releases: (() => void)[] = [];
    const { service, consumer } = serviceWith(async (job) => {
      started.push(job.source.offset);
      // Offset 2 starts last and is not held, so the consume call can finish.
      if (job.source.offset === '2') {
        return;
      }
      await new Promise<void>((resolve) => {
        releases.push(resolve);
      });
    });

    const messages = [
      message(0, 'a'),
      message(1, 'b'),
      message(2, 'c'),
      message(3, 'd', 'other'),
      message(4, 'e', 'other'),
    ];
    const consumed = service.consume(payloadOf(messages, []), consumer);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Two per workspace: offset 2 waits for a slot of its own workspace only.
    expect([...started].sort()).toEqual(['0', '1', '3', '4']);
    releases[0]?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toHaveLength(5);
    expect(started.at(-1)).toBe('2');
    for (const release of releases) {
      release();
    }
    await consumed;
    expect(releases).toHaveLength(4);
  });

  it('settles other deliveries before failing', async () => {
    let releaseOther: () => void = () => undefined;
    const { service, consumer } = serviceWith(async (job) => {
      if (job.source.offset === '0') {
        throw new ShutdownError();
      }
      await new Promise<void>((resolve) => {
        releaseOther = resolve;
      });
    });
    let settled = false;

    const consumed = service.consume(
      payloadOf([message(0, 'a'), message(1, 'b', 'other')], []),
      consumer,
    );
    consumed
      .catch(() => undefined)
      .finally(() => {
        settled = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Offset 0 failed, but offset 1 is still in delivery.
    expect(settled).toBe(false);
    releaseOther();
    await expect(consumed).rejects.toThrow(ShutdownError);
  });

  describe('rounds', () => {
    const shortRounds = readSenderConfig({
      CIO_WORKSPACES: 'site:key:us:100,other:other-key:us:100',
      SENDER_ROUND_MS: '100',
    });

    /** Delivers at once, except offset 0 of `site`, which takes 150 ms. */
    function slowFirst(started: string[]) {
      return async (job: DeliveryJob) => {
        started.push(`${job.workspace.siteId}/${job.source.offset}`);
        if (job.source.offset === '0') {
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      };
    }

    it('stops a lane when the round ends', async () => {
      const started: string[] = [];
      const { service, consumer, commits } = serviceWith(slowFirst(started), {
        config: shortRounds,
      });
      const resolved: string[] = [];

      // Offset 1 waits for offset 0 (same person), which ends after the round.
      await service.consume(payloadOf([message(0, 'a'), message(1, 'a')], resolved), consumer);

      expect(started).toEqual(['site/0']);
      expect(resolved).toEqual(['0']);
      expect(commits).toEqual(['1']);
    });

    it('stops a lane on a late limiter start', async () => {
      const started: string[] = [];
      const { service, consumer, commits } = serviceWith(
        (job) => {
          started.push(job.source.offset);
          return Promise.resolve();
        },
        { config: shortRounds, startDelayMs: 500 },
      );

      await service.consume(payloadOf([message(0, 'a'), message(1, 'b')], []), consumer);

      // The first batch of a lane starts whatever its delay, so each call makes progress.
      expect(started).toEqual(['0']);
      expect(commits).toEqual(['1']);
    });

    it('skips batches delivered ahead', async () => {
      const started: string[] = [];
      const { service, consumer, commits } = serviceWith(slowFirst(started), {
        config: shortRounds,
      });
      const messages = [message(0, 'a'), message(1, 'a'), message(2, 'c', 'other')];

      await service.consume(payloadOf(messages, []), consumer);
      expect(started).toEqual(['site/0', 'other/2']);
      expect(commits).toEqual(['1']);

      // kafkajs fetches again from offset 1.
      await service.consume(payloadOf(messages.slice(1), []), consumer);
      expect(started).toEqual(['site/0', 'other/2', 'site/1']);
      expect(commits.at(-1)).toBe('3');
    });

    it('resends ahead batches after losing the partition', async () => {
      const started: string[] = [];
      const { service, consumer } = serviceWith(slowFirst(started), { config: shortRounds });
      const messages = [message(0, 'a'), message(1, 'a'), message(2, 'c', 'other')];

      await service.consume(payloadOf(messages, []), consumer);
      service.retainPartitions([3]);
      await service.consume(payloadOf(messages.slice(1), []), consumer);

      expect(started).toEqual(['site/0', 'other/2', 'site/1', 'other/2']);
    });
  });
});
