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

function message(offset: number, person: string): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from('site'),
    value: Buffer.from('{"batch":[]}'),
    timestamp: '0',
    attributes: 0,
    headers: {
      [Headers.workspace]: 'site',
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
  const config = readSenderConfig({ CIO_WORKSPACES: 'site:key:us:100' });
  const writer = { write: () => Promise.resolve() } as unknown as DeadLetterWriter;

  function serviceWith(deliver: (job: DeliveryJob) => Promise<void>) {
    const delivery = { deliver } as unknown as DeliveryService;
    const commits: string[] = [];
    const consumer = {
      commitOffsets: (offsets: { offset: string }[]) => {
        commits.push(...offsets.map((entry) => entry.offset));
        return Promise.resolve();
      },
    } as unknown as Consumer;
    return { service: new BatchesService(config, delivery, writer), consumer, commits };
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
});
