import fc from 'fast-check';
import { DEFAULT_TRACK_LIMITS, MAX_UNIX_SECONDS, type TrackLimits } from './limits';
import type { Operation } from './operation';
import { validateOperation, type ValidateOptions } from './validate-operation';
import type { FieldError } from './validation-error';

const OPTIONS: ValidateOptions = { limits: DEFAULT_TRACK_LIMITS };
const ULID = '01HZY8QK3V5W7X9A0B1C2D3E4F';

function byteLength(value: unknown): number {
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** Validates `input` and returns the operation, failing the test with the error otherwise. */
function accept(input: unknown, options: ValidateOptions = OPTIONS): Operation {
  const result = validateOperation(input, options);
  if (!result.ok) {
    throw new Error(`expected a valid operation, got ${JSON.stringify(result.error)}`);
  }
  return result.value;
}

/** Validates `input` and returns the error, failing the test if the operation is valid. */
function reject(input: unknown, options: ValidateOptions = OPTIONS): FieldError {
  const result = validateOperation(input, options);
  if (result.ok) {
    throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  }
  return result.error;
}

function expectError(error: FieldError, field: string, reason: FieldError['reason']): void {
  expect(error.field).toBe(field);
  expect(error.reason).toBe(reason);
}

function identify(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'person', action: 'identify', identifiers: { id: 'user-1' }, ...fields };
}

function event(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'person',
    action: 'event',
    identifiers: { id: 'user-1' },
    name: 'signup',
    ...fields,
  };
}

function attributesOfCount(count: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`a${index}`, index]));
}

/**
 * Returns an identify operation whose JSON is exactly `bytes` long. The keys
 * are in the order `validateOperation` writes them, so the output has the
 * same size as the input.
 */
function identifyOfSize(bytes: number): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  const operation = identify({ attributes });
  let index = 0;
  while (byteLength(operation) + 1000 + 16 < bytes) {
    attributes[`a${index++}`] = 'x'.repeat(1000);
  }
  const last = `a${index}`;
  attributes[last] = '';
  attributes[last] = 'x'.repeat(bytes - byteLength(operation));
  if (byteLength(operation) !== bytes) {
    throw new Error(`cannot build an identify operation of ${bytes} bytes`);
  }
  return operation;
}

describe('validateOperation', () => {
  describe('shape', () => {
    it.each([
      ['null', null],
      ['array', []],
      ['string', 'identify'],
      ['number', 7],
    ])('rejects %s input', (_kind, input) => {
      expectError(reject(input), '', 'invalid_type');
    });

    it('rejects unknown top-level field', () => {
      expectError(reject(identify({ user_id: 'u1' })), 'user_id', 'unknown_field');
    });

    it('drops nothing from valid identify', () => {
      const input = identify({ timestamp: 1_700_000_000, attributes: { plan: 'pro' } });
      expect(accept(input)).toEqual(input);
    });

    it('requires type', () => {
      expectError(reject({ action: 'identify', identifiers: { id: '1' } }), 'type', 'required');
    });

    it('rejects unknown type', () => {
      expectError(reject(identify({ type: 'account' })), 'type', 'invalid_value');
    });

    it('requires action', () => {
      expectError(reject({ type: 'person', identifiers: { id: '1' } }), 'action', 'required');
    });

    it('rejects unknown action', () => {
      expectError(reject(identify({ action: 'upsert' })), 'action', 'invalid_value');
    });
  });

  describe('identifiers', () => {
    it('requires identifiers', () => {
      expectError(reject({ type: 'person', action: 'identify' }), 'identifiers', 'required');
    });

    it('rejects non-object identifiers', () => {
      expectError(reject(identify({ identifiers: 'user-1' })), 'identifiers', 'invalid_type');
    });

    it('rejects two identifier keys', () => {
      const input = identify({ identifiers: { id: '1', email: 'a@example.com' } });
      expectError(reject(input), 'identifiers', 'invalid_value');
    });

    it('rejects unknown identifier kind', () => {
      const input = identify({ identifiers: { user_id: '1' } });
      expectError(reject(input), 'identifiers.user_id', 'unknown_field');
    });

    it.each(['id', 'email', 'cio_id', 'phone'])('accepts %s identifier', (kind) => {
      const input = identify({ identifiers: { [kind]: 'value-1' } });
      expect(accept(input).identifiers).toEqual({ [kind]: 'value-1' });
    });

    it('converts numeric id to string', () => {
      expect(accept(identify({ identifiers: { id: 42 } })).identifiers).toEqual({ id: '42' });
    });

    it.each([
      ['empty', ''],
      ['null', null],
    ])('rejects %s identifier value', (_kind, value) => {
      const input = identify({ identifiers: { id: value } });
      expectError(reject(input), 'identifiers.id', 'required');
    });

    it('rejects boolean identifier value', () => {
      const input = identify({ identifiers: { id: true } });
      expectError(reject(input), 'identifiers.id', 'invalid_type');
    });

    it('rejects anonymous_id on identify', () => {
      const input = { type: 'person', action: 'identify', anonymous_id: 'anon-1' };
      expectError(reject(input), 'anonymous_id', 'unknown_field');
    });

    it('rejects anonymous_id on object event', () => {
      const input = { type: 'object', action: 'event', name: 'x', anonymous_id: 'anon-1' };
      expectError(reject(input), 'anonymous_id', 'unknown_field');
    });

    it('rejects anonymous_id in identifiers', () => {
      const error = reject(event({ identifiers: { anonymous_id: 'anon-1' } }));
      expectError(error, 'identifiers.anonymous_id', 'unknown_field');
      expect(error.message).toContain("send it as the operation's anonymous_id field");
    });

    it('rejects anonymous_id with identifiers', () => {
      const input = { ...event({ identifiers: { id: 'p-1' } }), anonymous_id: 'anon-1' };
      expectError(reject(input), 'anonymous_id', 'invalid_value');
    });

    it.each(['event', 'page', 'screen'])('accepts anonymous_id on %s', (action) => {
      const operation = accept(event({ action, identifiers: undefined, anonymous_id: 'anon-1' }));
      expect(operation.anonymous_id).toBe('anon-1');
      expect(operation.identifiers).toBeUndefined();
    });

    it('checks anonymous_id size', () => {
      const error = reject(event({ identifiers: undefined, anonymous_id: 'a'.repeat(151) }));
      expectError(error, 'anonymous_id', 'too_large');
    });

    it('accepts object identifiers', () => {
      const input = {
        type: 'object',
        action: 'identify',
        identifiers: { object_type_id: '1', object_id: 'acme' },
      };
      expect(accept(input).identifiers).toEqual({ object_type_id: '1', object_id: 'acme' });
    });

    it('requires object_id for objects', () => {
      const input = { type: 'object', action: 'identify', identifiers: { object_type_id: '1' } };
      expectError(reject(input), 'identifiers.object_id', 'required');
    });

    it('accepts identifier of 150 bytes', () => {
      const id = '€'.repeat(50);
      expect(accept(identify({ identifiers: { id } })).identifiers).toEqual({ id });
    });

    it('rejects identifier of 151 bytes', () => {
      const input = identify({ identifiers: { id: `${'€'.repeat(50)}a` } });
      expectError(reject(input), 'identifiers.id', 'too_large');
    });

    it('names sizes in identifier error', () => {
      const error = reject(identify({ identifiers: { email: 'a'.repeat(151) } }));
      expect(error.message).toBe('identifiers.email is 151 bytes, over the limit of 150 bytes');
    });

    it('rejects object_type_id of 151 bytes', () => {
      const input = {
        type: 'object',
        action: 'identify',
        identifiers: { object_type_id: 'a'.repeat(151), object_id: 'acme' },
      };
      expectError(reject(input), 'identifiers.object_type_id', 'too_large');
    });
  });

  describe('merge', () => {
    const merge = {
      type: 'person',
      action: 'merge',
      primary: { email: 'a@example.com' },
      secondary: { id: '7' },
    };

    it('accepts primary and secondary', () => {
      expect(accept(merge)).toEqual(merge);
    });

    it('rejects identifiers on merge', () => {
      expectError(reject({ ...merge, identifiers: { id: '1' } }), 'identifiers', 'unknown_field');
    });

    it('requires secondary', () => {
      const input = { type: 'person', action: 'merge', primary: { id: '1' } };
      expectError(reject(input), 'secondary', 'required');
    });

    it('rejects primary outside merge', () => {
      expectError(reject(identify({ primary: { id: '2' } })), 'primary', 'unknown_field');
    });

    it('rejects secondary outside merge', () => {
      expectError(reject(identify({ secondary: { id: '2' } })), 'secondary', 'unknown_field');
    });

    it('rejects primary of 151 bytes', () => {
      const input = { ...merge, primary: { id: 'a'.repeat(151) } };
      expectError(reject(input), 'primary.id', 'too_large');
    });
  });

  describe('event name', () => {
    it('requires name on event', () => {
      expectError(reject(event({ name: undefined })), 'name', 'required');
    });

    it('rejects empty name', () => {
      expectError(reject(event({ name: '' })), 'name', 'required');
    });

    it('rejects non-string name', () => {
      expectError(reject(event({ name: 5 })), 'name', 'invalid_type');
    });

    it('rejects name on identify', () => {
      expectError(reject(identify({ name: 'signup' })), 'name', 'unknown_field');
    });

    it('accepts name of 100 bytes', () => {
      const name = '😀'.repeat(25);
      expect(accept(event({ name })).name).toBe(name);
    });

    it('rejects name of 101 bytes', () => {
      expectError(reject(event({ name: `${'😀'.repeat(25)}a` })), 'name', 'too_large');
    });
  });

  describe('event id', () => {
    it('upper-cases ULID id', () => {
      expect(accept(event({ id: ULID.toLowerCase() })).id).toBe(ULID);
    });

    it('keeps given id over assigned', () => {
      const assignEventId = jest.fn(() => '01J00000000000000000000000');
      expect(accept(event({ id: ULID }), { ...OPTIONS, assignEventId }).id).toBe(ULID);
    });

    it('skips assignEventId when id given', () => {
      const assignEventId = jest.fn(() => '01J00000000000000000000000');
      accept(event({ id: ULID }), { ...OPTIONS, assignEventId });
      expect(assignEventId).not.toHaveBeenCalled();
    });

    it.each(['not-a-ulid', 'I'.repeat(26), `8${ULID.slice(1)}`, 12345])(
      'rejects invalid id %p',
      (id) => {
        expectError(reject(event({ id })), 'id', 'invalid_value');
      },
    );

    it.each(['event', 'page', 'screen'])('assigns id to %s', (action) => {
      const options = { ...OPTIONS, assignEventId: () => ULID };
      expect(accept(event({ action }), options).id).toBe(ULID);
    });

    it.each([
      ['null', null],
      ['empty', ''],
    ])('assigns id for %s id', (_kind, id) => {
      const options = { ...OPTIONS, assignEventId: () => ULID };
      expect(accept(event({ id }), options).id).toBe(ULID);
    });

    it('assigns no id to identify', () => {
      const assignEventId = jest.fn(() => ULID);
      const operation = accept(identify(), { ...OPTIONS, assignEventId });
      expect(operation.id).toBeUndefined();
      expect(assignEventId).not.toHaveBeenCalled();
    });

    it('leaves id absent without assigner', () => {
      expect('id' in accept(event())).toBe(false);
    });

    it('rejects id on identify', () => {
      expectError(reject(identify({ id: ULID })), 'id', 'unknown_field');
    });
  });

  describe('timestamp', () => {
    it('accepts unix seconds', () => {
      expect(accept(identify({ timestamp: 1_700_000_000 })).timestamp).toBe(1_700_000_000);
    });

    it('accepts largest seconds value', () => {
      const timestamp = MAX_UNIX_SECONDS;
      expect(accept(identify({ timestamp })).timestamp).toBe(timestamp);
    });

    it('rejects one above largest', () => {
      const input = identify({ timestamp: MAX_UNIX_SECONDS + 1 });
      expectError(reject(input), 'timestamp', 'invalid_value');
    });

    it('rejects millisecond timestamp', () => {
      const error = reject(identify({ timestamp: 1_700_000_000_000 }));
      expectError(error, 'timestamp', 'invalid_value');
      expect(error.message).toContain('milliseconds');
    });

    it.each([
      ['fraction', 1.5],
      ['negative', -1],
      ['string', '1700000000'],
    ])('rejects %s timestamp', (_kind, timestamp) => {
      expectError(reject(identify({ timestamp })), 'timestamp', 'invalid_type');
    });

    it('omits null timestamp', () => {
      expect('timestamp' in accept(identify({ timestamp: null }))).toBe(false);
    });
  });

  describe('numbers beyond the double range', () => {
    // JSON.parse reads these as Infinity, which JSON.stringify writes as null.
    const tooLarge = JSON.parse('{"big": 1e400, "small": -1e999}') as Record<string, number>;

    it('rejects one in attributes', () => {
      const error = reject(identify({ attributes: { score: tooLarge['big'], plan: 'pro' } }));
      expectError(error, '', 'invalid_value');
      expect(error.message).toContain('1e400');
    });

    it('rejects one nested in event data', () => {
      const input = event({ attributes: { cart: { items: [{ price: tooLarge['small'] }] } } });
      expectError(reject(input), '', 'invalid_value');
    });

    it('rejects NaN in device attributes', () => {
      const input = {
        type: 'person',
        action: 'add_device',
        identifiers: { id: 'user-1' },
        device: { token: 't-1', attributes: { level: Number.NaN } },
      };
      expectError(reject(input), '', 'invalid_value');
    });

    it('accepts the largest double', () => {
      const operation = accept(identify({ attributes: { score: Number.MAX_VALUE } }));
      expect(operation.attributes).toEqual({ score: Number.MAX_VALUE });
    });
  });

  describe('attributes', () => {
    it('rejects non-object attributes', () => {
      expectError(reject(identify({ attributes: [1] })), 'attributes', 'invalid_type');
    });

    it('accepts 300 attributes', () => {
      const attributes = attributesOfCount(300);
      expect(accept(identify({ attributes })).attributes).toEqual(attributes);
    });

    it('rejects 301 attributes', () => {
      const input = identify({ attributes: attributesOfCount(301) });
      expectError(reject(input), 'attributes', 'too_many');
    });

    it('accepts name of 150 bytes', () => {
      const attributes = { ['é'.repeat(75)]: 1 };
      expect(accept(identify({ attributes })).attributes).toEqual(attributes);
    });

    it('rejects name of 151 bytes', () => {
      const name = `${'é'.repeat(75)}a`;
      const error = reject(identify({ attributes: { [name]: 1 } }));
      expectError(error, `attributes.${name.slice(0, 40)}`, 'too_large');
    });

    it('accepts string value of 1000 bytes', () => {
      const attributes = { bio: 'é'.repeat(500) };
      expect(accept(identify({ attributes })).attributes).toEqual(attributes);
    });

    it('rejects string value of 1001 bytes', () => {
      const error = reject(identify({ attributes: { bio: `${'é'.repeat(500)}a` } }));
      expectError(error, 'attributes.bio', 'too_large');
    });

    it('counts value bytes, not characters', () => {
      const error = reject(identify({ attributes: { bio: '😀'.repeat(251) } }));
      expect(error.message).toBe(
        'value of attribute "bio" is 1004 bytes, over the limit of 1000 bytes',
      );
    });

    it('accepts object value of 1000 bytes', () => {
      const attributes = { address: { k: 'x'.repeat(992) } };
      expect(byteLength(attributes.address)).toBe(1000);
      expect(accept(identify({ attributes })).attributes).toEqual(attributes);
    });

    it('rejects object value of 1001 bytes', () => {
      const error = reject(identify({ attributes: { address: { k: 'x'.repeat(993) } } }));
      expectError(error, 'attributes.address', 'too_large');
    });

    it('accepts null attribute value', () => {
      expect(accept(identify({ attributes: { plan: null } })).attributes).toEqual({ plan: null });
    });
  });

  describe('event data', () => {
    // Raises the operation limit so that the event data limit is the one reached.
    const eventDataOptions: ValidateOptions = {
      limits: { ...DEFAULT_TRACK_LIMITS, maxOperationBytes: 1_000_000 },
    };

    it('skips attribute count on events', () => {
      const attributes = attributesOfCount(301);
      expect(accept(event({ attributes })).attributes).toEqual(attributes);
    });

    it('skips attribute value size on events', () => {
      const attributes = { bio: 'x'.repeat(1001) };
      expect(accept(event({ attributes })).attributes).toEqual(attributes);
    });

    it('accepts data of 100000 bytes', () => {
      const attributes = { pad: 'x'.repeat(99_990) };
      expect(byteLength(attributes)).toBe(100_000);
      expect(accept(event({ attributes }), eventDataOptions).attributes).toEqual(attributes);
    });

    it('rejects data of 100001 bytes', () => {
      const input = event({ attributes: { pad: 'x'.repeat(99_991) } });
      expectError(reject(input, eventDataOptions), 'attributes', 'too_large');
    });

    it('counts data in UTF-8 bytes', () => {
      const attributes = { pad: '€'.repeat(33_330) };
      expect(byteLength(attributes)).toBe(100_000);
      expect(accept(event({ attributes }), eventDataOptions).attributes).toEqual(attributes);
    });
  });

  describe('device', () => {
    const addDevice = (device: unknown): Record<string, unknown> =>
      identify({ action: 'add_device', device });

    it('accepts full device', () => {
      const device = { token: 'tok-1', platform: 'ios', last_used: 1_700_000_000 };
      expect(accept(addDevice(device)).device).toEqual(device);
    });

    it('reads id as token', () => {
      expect(accept(addDevice({ id: 'tok-1' })).device).toEqual({ token: 'tok-1' });
    });

    it('requires device on add_device', () => {
      expectError(reject(addDevice(undefined)), 'device', 'required');
    });

    it('requires device token', () => {
      expectError(reject(addDevice({ platform: 'ios' })), 'device.token', 'required');
    });

    it('rejects unknown platform', () => {
      const input = addDevice({ token: 't', platform: 'web' });
      expectError(reject(input), 'device.platform', 'invalid_value');
    });

    it('rejects millisecond last_used', () => {
      const input = addDevice({ token: 't', last_used: 1_700_000_000_000 });
      expectError(reject(input), 'device.last_used', 'invalid_value');
    });

    it('checks device attribute values', () => {
      const input = addDevice({ token: 't', attributes: { model: 'x'.repeat(1001) } });
      expectError(reject(input), 'device.attributes.model', 'too_large');
    });

    it('rejects device on identify', () => {
      expectError(reject(identify({ device: { token: 't' } })), 'device', 'unknown_field');
    });
  });

  describe('cio_relationships', () => {
    it('keeps relationship array', () => {
      const cio_relationships = [{ identifiers: { object_type_id: '1', object_id: 'acme' } }];
      expect(accept(identify({ cio_relationships })).cio_relationships).toEqual(cio_relationships);
    });

    it('rejects non-array relationships', () => {
      const input = identify({ cio_relationships: { action: 'add_relationships' } });
      expectError(reject(input), 'cio_relationships', 'invalid_type');
    });
  });

  describe('operation size', () => {
    it('accepts operation of 32768 bytes', () => {
      const operation = accept(identifyOfSize(32_768));
      expect(byteLength(operation)).toBe(32_768);
    });

    it('rejects operation of 32769 bytes', () => {
      const error = reject(identifyOfSize(32_769));
      expectError(error, '', 'too_large');
      expect(error.message).toBe('operation is 32769 bytes, over the limit of 32768 bytes');
    });
  });

  describe('any JSON input', () => {
    const tightLimits: TrackLimits = {
      ...DEFAULT_TRACK_LIMITS,
      maxOperationBytes: 300,
      maxAttributeValueBytes: 40,
      maxEventDataBytes: 200,
      maxIdentifierBytes: 20,
    };
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });
    const json = fc.jsonValue({ maxDepth: 3 });
    const attributes = fc.dictionary(text, json, { maxKeys: 8 });
    const person = fc.oneof(fc.record({ id: text }), fc.record({ email: text }));
    const identifyLike = fc.record(
      {
        type: fc.constant('person'),
        action: fc.constantFrom('identify', 'delete', 'suppress'),
        identifiers: person,
        timestamp: fc.integer({ min: 0, max: 2 * MAX_UNIX_SECONDS }),
        attributes,
        cio_relationships: fc.array(json, { maxLength: 3 }),
      },
      { requiredKeys: ['type', 'action', 'identifiers'] },
    );
    const eventFields = {
      type: fc.constant('person'),
      action: fc.constantFrom('event', 'page', 'screen'),
      name: text,
      id: fc.constantFrom(ULID, ULID.toLowerCase()),
      attributes,
    };
    const eventLike = fc.oneof(
      fc.record(
        { ...eventFields, identifiers: person },
        { requiredKeys: ['type', 'action', 'identifiers', 'name'] },
      ),
      fc.record(
        { ...eventFields, anonymous_id: text },
        { requiredKeys: ['type', 'action', 'anonymous_id', 'name'] },
      ),
    );
    const mergeLike = fc.record({
      type: fc.constant('person'),
      action: fc.constant('merge'),
      primary: person,
      secondary: person,
    });
    const deviceLike = fc.record({
      type: fc.constant('person'),
      action: fc.constantFrom('add_device', 'delete_device'),
      identifiers: person,
      device: fc.record(
        { token: text, platform: fc.constantFrom('ios', 'android'), attributes },
        { requiredKeys: ['token'] },
      ),
    });
    const operationLike = fc.oneof(identifyLike, eventLike, mergeLike, deviceLike);
    // One field of a plausible operation replaced by any JSON value, or a field added.
    const mutated = fc
      .tuple(
        operationLike,
        fc.constantFrom(
          'type',
          'action',
          'identifiers',
          'anonymous_id',
          'name',
          'id',
          'timestamp',
          'attributes',
          'device',
          'primary',
          'secondary',
          'cio_relationships',
          'extra',
        ),
        json,
      )
      .map(([operation, field, value]) => ({ ...operation, [field]: value }));
    const input = fc.oneof(json, operationLike, mutated);

    it('returns operation or error', () => {
      let validCount = 0;
      fc.assert(
        fc.property(input, fc.constantFrom(DEFAULT_TRACK_LIMITS, tightLimits), (input, limits) => {
          const result = validateOperation(input, { limits, assignEventId: () => ULID });
          if (result.ok) {
            validCount += 1;
            expect(byteLength(result.value)).toBeLessThanOrEqual(limits.maxOperationBytes);
          } else {
            expect(result.error.message.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 2000 },
      );
      // Guards against generators that never produce a valid operation.
      expect(validCount).toBeGreaterThan(0);
    });
  });
});
