import { BATCH_ENVELOPE_BYTES, hashPerson } from '@cio-pipeline/schemas';
import fc from 'fast-check';
import { BatchBuffer, type Source } from './batch-buffer';

const NO_TRACKER = { complete: () => undefined };

function sourceAt(partition: number, offset: number): Source {
  return { partition, offset, tracker: NO_TRACKER };
}

const MAX_BATCH_BYTES = 500 * 1024;

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Serializes an identify operation whose `note` attribute carries `text`. */
function operationWith(text: string, person = 'user-1'): string {
  return JSON.stringify({
    type: 'person',
    action: 'identify',
    identifiers: { id: person },
    attributes: { note: text },
  });
}

/** Adds `serialized` as UTF-8 bytes with its person's hash, as the batcher does. */
function add(
  buffer: BatchBuffer,
  serialized: string,
  person = 'id:user-1',
  acceptedAt = 1_000,
  source: Source = sourceAt(0, 0),
): void {
  buffer.add(Buffer.from(serialized, 'utf8'), hashPerson(person), acceptedAt, source);
}

const SOURCE: Source = sourceAt(0, 0);

function bodyOf(buffer: BatchBuffer): string {
  return buffer.take().body.toString('utf8');
}

describe('BatchBuffer', () => {
  describe('body', () => {
    it('wraps operations in batch', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      const first = operationWith('a');
      const second = operationWith('b');
      add(buffer, first);
      add(buffer, second);
      expect(bodyOf(buffer)).toBe(`{"batch":[${first},${second}]}`);
    });

    it('copies views of a larger buffer', () => {
      const first = operationWith('a');
      const second = operationWith('b');
      const message = Buffer.from(`header\n${first}\n${second}`, 'utf8');
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      const start = 'header\n'.length;
      buffer.add(message.subarray(start, start + first.length), 1, 1_000, SOURCE);
      buffer.add(message.subarray(start + first.length + 1), 2, 1_000, SOURCE);
      message.fill(0);
      expect(bodyOf(buffer)).toBe(`{"batch":[${first},${second}]}`);
    });

    it('grows past its first allocation', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      const added = Array.from({ length: 300 }, (_, i) => operationWith(`${i}:${'x'.repeat(i)}`));
      added.forEach((operation) => {
        add(buffer, operation);
      });
      const batch = buffer.take();
      expect(batch.body.length).toBeGreaterThan(64 * 1024);
      expect(batch.body.toString('utf8')).toBe(`{"batch":[${added.join(',')}]}`);
    });

    it('parses as JSON batch', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('€ and 😀'));
      add(buffer, operationWith('"quoted"\n'));
      const parsed = JSON.parse(bodyOf(buffer)) as { batch: { attributes: { note: string } }[] };
      expect(parsed.batch.map((operation) => operation.attributes.note)).toEqual([
        '€ and 😀',
        '"quoted"\n',
      ]);
    });

    it('counts operations', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'));
      add(buffer, operationWith('b'));
      expect(buffer.take().operationCount).toBe(2);
    });

    it('keeps workspace', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'));
      expect(buffer.take().workspace).toBe('site-1');
    });
  });

  describe('bytes', () => {
    it('starts at envelope size', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      expect(buffer.bytes).toBe(byteLength('{"batch":[]}'));
    });

    it('matches body at every step', () => {
      const texts = ['plain', 'é', '€€€', '😀', '日本語テキスト', ''];
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      const added: string[] = [];
      for (const text of texts) {
        const serialized = operationWith(text);
        add(buffer, serialized);
        added.push(serialized);
        expect(buffer.bytes).toBe(byteLength(`{"batch":[${added.join(',')}]}`));
      }
    });

    it('matches taken body', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('€'));
      add(buffer, operationWith('😀'));
      const bytes = buffer.bytes;
      expect(buffer.take().body.length).toBe(bytes);
    });

    it('resets after take', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'));
      buffer.take();
      expect(buffer.bytes).toBe(BATCH_ENVELOPE_BYTES);
    });

    it('matches body for random text', () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 30 }), (texts) => {
          const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
          const serialized = texts.map((text) => operationWith(text));
          serialized.forEach((operation) => {
            add(buffer, operation);
          });
          const bytes = buffer.bytes;
          const body = buffer.take().body;
          expect(body.length).toBe(bytes);
          expect(body.toString('utf8')).toBe(`{"batch":[${serialized.join(',')}]}`);
        }),
      );
    });
  });

  describe('fits', () => {
    it('fits body of exactly max bytes', () => {
      const serialized = operationWith('x');
      const max = BATCH_ENVELOPE_BYTES + 2 * byteLength(serialized) + 1;
      const buffer = new BatchBuffer('site-1', max);
      add(buffer, serialized);
      expect(buffer.fits(byteLength(serialized))).toBe(true);
    });

    it('rejects one byte over', () => {
      const serialized = operationWith('x');
      const max = BATCH_ENVELOPE_BYTES + 2 * byteLength(serialized);
      const buffer = new BatchBuffer('site-1', max);
      add(buffer, serialized);
      expect(buffer.fits(byteLength(serialized))).toBe(false);
    });

    it('counts no comma for first', () => {
      const serialized = operationWith('x');
      const buffer = new BatchBuffer('site-1', BATCH_ENVELOPE_BYTES + byteLength(serialized));
      expect(buffer.fits(byteLength(serialized))).toBe(true);
    });

    it('add throws when not fitting', () => {
      const serialized = operationWith('x');
      const buffer = new BatchBuffer('site-1', BATCH_ENVELOPE_BYTES + byteLength(serialized) - 1);
      expect(() => {
        add(buffer, serialized);
      }).toThrow(/does not fit the batch/);
    });

    it('keeps body within max', () => {
      const operationSizes = fc.array(fc.integer({ min: 0, max: 3000 }), {
        minLength: 1,
        maxLength: 300,
      });
      fc.assert(
        fc.property(operationSizes, fc.integer({ min: 100, max: 20_000 }), (sizes, max) => {
          const buffer = new BatchBuffer('site-1', max);
          const bodies: Buffer[] = [];
          for (const size of sizes) {
            const serialized = operationWith(
              '€'.repeat(Math.floor(size / 3)) + 'x'.repeat(size % 3),
            );
            const bytes = byteLength(serialized);
            if (!buffer.fits(bytes) && buffer.count > 0) {
              bodies.push(buffer.take().body);
            }
            if (buffer.fits(bytes)) {
              add(buffer, serialized, 'id:user-1', 0);
            }
          }
          bodies.push(buffer.take().body);
          const oversized = bodies.filter((body) => body.length > max);
          expect(oversized.map((body) => body.length)).toEqual([]);
        }),
      );
    });
  });

  describe('persons and sources', () => {
    it('keeps distinct person hashes', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'), 'id:1');
      add(buffer, operationWith('b'), 'id:2');
      add(buffer, operationWith('c'), 'id:1');
      const hashes = [...buffer.take().personHashes];
      expect(hashes).toEqual([hashPerson('id:1'), hashPerson('id:2')]);
    });

    it('keeps sources in order', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      const sources = [sourceAt(2, 40), sourceAt(0, 7), sourceAt(2, 41)];
      sources.forEach((source, index) => {
        add(buffer, operationWith(String(index)), 'id:1', 1_000, source);
      });
      expect(buffer.take().sources).toEqual(sources);
    });

    it('takes oldest acceptedAt', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'), 'id:1', 3_000);
      add(buffer, operationWith('b'), 'id:1', 1_000);
      add(buffer, operationWith('c'), 'id:1', 2_000);
      expect(buffer.take().oldestAcceptedAt).toBe(1_000);
    });

    it('starts empty after take', () => {
      const buffer = new BatchBuffer('site-1', MAX_BATCH_BYTES);
      add(buffer, operationWith('a'), 'id:1', 1_000, sourceAt(0, 1));
      buffer.take();
      add(buffer, operationWith('b'), 'id:2', 2_000, sourceAt(0, 2));
      const batch = buffer.take();
      expect(batch.sources).toEqual([sourceAt(0, 2)]);
      expect([...batch.personHashes]).toEqual([hashPerson('id:2')]);
      expect(batch.oldestAcceptedAt).toBe(2_000);
    });
  });
});
