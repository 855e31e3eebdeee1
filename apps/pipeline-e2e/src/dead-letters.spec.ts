import { Partitioners } from 'kafkajs';
import {
  encodeLinesEnvelope,
  hashPerson,
  joinLinesEnvelopes,
  UlidFactory,
  type DeadLetter,
} from '@cio-pipeline/schemas';
import { sleep, type StackWorkspace } from '@cio-pipeline/stack';
import {
  eventOperation,
  kafkaClient,
  postBatches,
  readDeadLetters,
  startTestStack,
  waitForDeadLetters,
  waitForEvents,
  type TestStack,
} from './support';

const RAW: StackWorkspace = {
  siteId: 'site-raw',
  apiKey: 'key-raw',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 0,
};
const STRICT: StackWorkspace = {
  siteId: 'site-strict',
  apiKey: 'key-strict',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 0,
};
/** The sandbox's attribute value limit in this file, below the gateway's 1000 bytes. */
const SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES = 500;
const LINES: StackWorkspace = {
  siteId: 'site-lines',
  apiKey: 'key-lines',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 0,
};
const GARBAGE = 'this is {not JSON';

describe('dead letters', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack([RAW, STRICT, LINES], {
      env: {
        sandbox: { SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES: String(SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES) },
      },
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('dead-letters unreadable operations messages', async () => {
    const ids = new UlidFactory();
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [stack.topics.operations] });
    await admin.disconnect();
    const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];
    expect(partitions.length).toBeGreaterThan(0);

    // Every partition gets a message that is not JSON, then one whose
    // operation has an unknown action, then a valid event, then an array of
    // two valid envelopes around one without a workspace, then an empty
    // array. The valid events can only arrive if the batcher moves past the
    // bad messages and the bad array element.
    const eventIds: string[] = [];
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (const partition of partitions) {
        const personId = `person-${partition}`;
        const key = `${RAW.siteId}/id:${personId}`;
        const envelopeOf = (operation: unknown) => ({
          workspace: RAW.siteId,
          acceptedAt: Date.now(),
          requestId: `e2e-${partition}`,
          operations: [operation],
        });
        const envelope = (operation: unknown) => JSON.stringify(envelopeOf(operation));
        const [eventId, firstJoinedId, secondJoinedId] = [ids.next(), ids.next(), ids.next()];
        eventIds.push(eventId, firstJoinedId, secondJoinedId);
        const joined = JSON.stringify([
          envelopeOf(eventOperation(personId, firstJoinedId)),
          { acceptedAt: Date.now(), operations: [] },
          envelopeOf(eventOperation(personId, secondJoinedId)),
        ]);
        await producer.send({
          topic: stack.topics.operations,
          acks: -1,
          messages: [
            { partition, key, value: GARBAGE },
            {
              partition,
              key,
              value: envelope({ type: 'person', identifiers: { id: personId }, action: 'fly' }),
            },
            { partition, key, value: envelope(eventOperation(personId, eventId)) },
            { partition, key, value: joined },
            { partition, key, value: '[]' },
          ],
        });
      }
    } finally {
      await producer.disconnect();
    }

    const delivery = await waitForEvents(stack.sandbox, RAW.siteId, eventIds, 30_000);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);

    const fromBatcher = (letter: DeadLetter) => letter.stage === 'batcher';
    const letters = await waitForDeadLetters(stack, fromBatcher, 4 * partitions.length, 20_000);
    const unreadable = letters.filter((letter) => letter.error.reason === 'invalid_message');
    const invalid = letters.filter((letter) => letter.error.reason === 'invalid_value');
    expect(letters).toHaveLength(4 * partitions.length);
    expect(unreadable).toHaveLength(3 * partitions.length);
    expect(invalid).toHaveLength(partitions.length);
    const notJson = unreadable.filter((letter) => letter.operation === GARBAGE);
    expect(notJson).toHaveLength(partitions.length);
    for (const letter of notJson) {
      expect(letter.error.message).toContain('not valid JSON');
    }
    const noWorkspace = unreadable.filter((letter) =>
      letter.error.message.includes('lacks a workspace'),
    );
    expect(noWorkspace).toHaveLength(partitions.length);
    const emptyArray = unreadable.filter((letter) => letter.error.message.includes('empty array'));
    expect(emptyArray).toHaveLength(partitions.length);
    for (const letter of invalid) {
      expect(letter.workspace).toBe(RAW.siteId);
      expect(letter.error.field).toBe('action');
      expect(letter.operation).toMatchObject({ action: 'fly' });
    }
    const lettersPerPartition = new Set(letters.map((letter) => letter.source.partition));
    expect([...lettersPerPartition].sort((a, b) => a - b)).toEqual(
      partitions.sort((a, b) => a - b),
    );
  });

  it('dead-letters bad operations and envelopes of the lines format', async () => {
    const ids = new UlidFactory();
    const kafka = kafkaClient();
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [stack.topics.operations] });
    await admin.disconnect();
    const partitions = metadata.topics[0]?.partitions.map((p) => p.partitionId) ?? [];

    // Every partition gets one message of three envelopes. The first is a
    // valid event. The second has an operation over 32 KiB, a line that is
    // not an object and a valid event. The third is cut after its first
    // operation.
    const eventIds: string[] = [];
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (const partition of partitions) {
        const personId = `lines-${partition}`;
        const [firstId, secondId] = [ids.next(), ids.next()];
        eventIds.push(firstId, secondId);
        const event = (id: string) => JSON.stringify(eventOperation(personId, id));
        const oversized = JSON.stringify(
          eventOperation(personId, ids.next(), { note: 'n'.repeat(33 * 1024) }),
        );
        const envelope = (operations: string[]) =>
          encodeLinesEnvelope(
            LINES.siteId,
            Date.now(),
            `lines-${partition}`,
            operations,
            operations.map(() => hashPerson(`id:${personId}`)),
          );
        const truncated = envelope([event(ids.next()), event(ids.next())])
          .split('\n')
          .slice(0, 2)
          .join('\n');
        const value = joinLinesEnvelopes([
          envelope([event(firstId)]),
          envelope([oversized, '"not an object"', event(secondId)]),
          truncated,
        ]);
        await producer.send({
          topic: stack.topics.operations,
          acks: -1,
          messages: [{ partition, key: `${LINES.siteId}/id:${personId}`, value }],
        });
      }
    } finally {
      await producer.disconnect();
    }

    const delivery = await waitForEvents(stack.sandbox, LINES.siteId, eventIds, 30_000);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);

    const ofLines = (letter: DeadLetter) => letter.workspace === LINES.siteId;
    await waitForDeadLetters(stack, ofLines, 3 * partitions.length, 20_000);
    // Waits a moment, so that an operation dead-lettered by mistake shows up too.
    await sleep(1000);
    const letters = (await readDeadLetters(stack)).filter(ofLines);
    const byReason = (reason: string) => letters.filter((letter) => letter.error.reason === reason);
    expect(letters).toHaveLength(3 * partitions.length);
    expect(letters.every((letter) => letter.stage === 'batcher')).toBe(true);
    expect(byReason('too_large')).toHaveLength(partitions.length);
    for (const letter of byReason('too_large')) {
      expect(letter.error.message).toContain('over the limit of 32768 bytes');
      // Parsed, so that the replay command can send it again.
      expect(letter.operation).toMatchObject({ action: 'event', name: 'e2e_event' });
    }
    expect(byReason('invalid_type').map((letter) => letter.operation)).toEqual(
      partitions.map(() => 'not an object'),
    );
    for (const letter of byReason('invalid_message')) {
      expect(letter.error.message).toMatch(
        /^envelope header gives \d+ bytes of operations, but only \d+ follow it$/,
      );
    }
    expect(byReason('invalid_message')).toHaveLength(partitions.length);
  });

  it('dead-letters items of a 207', async () => {
    const ids = new UlidFactory();
    const oversizedIndexes = new Set([3, 9, 15]);
    const eventIds: string[] = [];
    const operations = Array.from({ length: 20 }, (_, i) => {
      const personId = `person-${i}`;
      if (oversizedIndexes.has(i)) {
        // Within the gateway's 1000-byte limit but over the sandbox's 500.
        return {
          type: 'person',
          identifiers: { id: personId },
          action: 'identify',
          attributes: { bio: 'b'.repeat(600) },
        };
      }
      const eventId = ids.next();
      eventIds.push(eventId);
      return eventOperation(personId, eventId);
    });
    await postBatches(stack, STRICT, operations);

    const delivery = await waitForEvents(stack.sandbox, STRICT.siteId, eventIds, 30_000);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);

    const ofStrict = (letter: DeadLetter) => letter.workspace === STRICT.siteId;
    await waitForDeadLetters(stack, ofStrict, oversizedIndexes.size, 20_000);
    // Waits a moment, so that an operation dead-lettered by mistake shows up too.
    await sleep(1000);
    const letters = (await readDeadLetters(stack)).filter(ofStrict);
    expect(letters).toHaveLength(oversizedIndexes.size);
    for (const letter of letters) {
      expect(letter.stage).toBe('sender');
      expect(letter.error.status).toBe(207);
      expect(letter.error.reason).toBe('too_large');
      expect(letter.error.field).toBe('attributes.bio');
      expect(letter.error.message).toContain(String(SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES));
      expect(letter.operation).toMatchObject({ action: 'identify' });
    }
    const letterPeople = letters
      .map((letter) => (letter.operation as { identifiers: { id: string } }).identifiers.id)
      .sort();
    expect(letterPeople).toEqual(['person-15', 'person-3', 'person-9']);

    const stats = (await stack.sandbox.stats()).workspaces[STRICT.siteId];
    expect(stats?.rejectedOperations).toBe(oversizedIndexes.size);
    expect(stats?.operationsAcceptedByAction['identify'] ?? 0).toBe(0);
  });
});
