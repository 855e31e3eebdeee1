import { DEFAULT_TRACK_LIMITS } from './limits';
import type { Operation } from './operation';
import {
  fromAddDevice,
  fromDeleteDevice,
  fromIdentify,
  fromMerge,
  fromPersonAction,
  fromTrack,
  identifiersFromPath,
} from './v1';
import type { CheckedOperation, ValidateOptions } from './validate-operation';
import type { FieldError, Parsed } from './validation-error';

const OPTIONS: ValidateOptions = { limits: DEFAULT_TRACK_LIMITS };
const ULID = '01HZY8QK3V5W7X9A0B1C2D3E4F';

function valueOf(result: Parsed<CheckedOperation>): Operation {
  if (!result.ok) {
    throw new Error(`expected a valid operation, got ${JSON.stringify(result.error)}`);
  }
  expect(JSON.parse(result.value.serialized)).toEqual(result.value.operation);
  return result.value.operation;
}

function errorOf(result: Parsed<CheckedOperation>): FieldError {
  if (result.ok) {
    throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  }
  return result.error;
}

function expectError(error: FieldError, field: string, reason: FieldError['reason']): void {
  expect(error.field).toBe(field);
  expect(error.reason).toBe(reason);
}

describe('identifiersFromPath', () => {
  it('reads plain text as id', () => {
    expect(identifiersFromPath('42')).toEqual({ id: '42' });
  });

  it('reads text with @ as email', () => {
    expect(identifiersFromPath('ann@example.com')).toEqual({ email: 'ann@example.com' });
  });

  it('reads cio_ prefix as cio_id', () => {
    expect(identifiersFromPath('cio_03000001')).toEqual({ cio_id: '03000001' });
  });
});

describe('fromIdentify', () => {
  it('moves flat fields to attributes', () => {
    const operation = valueOf(fromIdentify('42', { plan: 'pro', seats: 3 }, OPTIONS));
    expect(operation).toEqual({
      type: 'person',
      action: 'identify',
      identifiers: { id: '42' },
      attributes: { plan: 'pro', seats: 3 },
    });
  });

  it('reads path identifier kind', () => {
    const operation = valueOf(fromIdentify('cio_abc', {}, OPTIONS));
    expect(operation.identifiers).toEqual({ cio_id: 'abc' });
  });

  it('takes email path identifier', () => {
    const operation = valueOf(fromIdentify('ann@example.com', {}, OPTIONS));
    expect(operation.identifiers).toEqual({ email: 'ann@example.com' });
  });

  it('accepts missing body', () => {
    expect(valueOf(fromIdentify('42', undefined, OPTIONS)).attributes).toEqual({});
  });

  it('rejects non-object body', () => {
    expectError(errorOf(fromIdentify('42', ['plan'], OPTIONS)), '', 'invalid_type');
  });

  it('moves _timestamp to timestamp', () => {
    const operation = valueOf(fromIdentify('42', { _timestamp: 1_700_000_000 }, OPTIONS));
    expect(operation.timestamp).toBe(1_700_000_000);
  });

  it('keeps _timestamp out of attributes', () => {
    const operation = valueOf(fromIdentify('42', { _timestamp: 1_700_000_000 }, OPTIONS));
    expect(operation.attributes).toEqual({});
  });

  it('names _timestamp in errors', () => {
    const error = errorOf(fromIdentify('42', { _timestamp: 1_700_000_000_000 }, OPTIONS));
    expectError(error, '_timestamp', 'invalid_value');
    expect(error.message).toMatch(/^_timestamp /);
  });

  it('rejects _update', () => {
    const error = errorOf(fromIdentify('42', { _update: true, plan: 'pro' }, OPTIONS));
    expectError(error, '_update', 'unknown_field');
  });

  it('unwraps v1 relationships', () => {
    const relationships = [{ identifiers: { object_type_id: '1', object_id: 'acme' } }];
    const body = { cio_relationships: { action: 'add_relationships', relationships } };
    const operation = valueOf(fromIdentify('42', body, OPTIONS));
    expect(operation.cio_relationships).toEqual(relationships);
  });

  it('rejects 151-byte path identifier', () => {
    const error = errorOf(fromIdentify('a'.repeat(151), {}, OPTIONS));
    expectError(error, 'identifiers.id', 'too_large');
  });

  it('names attribute by v1 field', () => {
    const error = errorOf(fromIdentify('42', { plan: 'x'.repeat(1001) }, OPTIONS));
    expect(error.field).toBe('plan');
  });
});

describe('fromTrack', () => {
  it('converts named event', () => {
    const operation = valueOf(fromTrack('42', { name: 'signup', data: { plan: 'pro' } }, OPTIONS));
    expect(operation).toEqual({
      type: 'person',
      action: 'event',
      identifiers: { id: '42' },
      name: 'signup',
      attributes: { plan: 'pro' },
    });
  });

  it.each(['page', 'screen'])('converts %s type', (type) => {
    const operation = valueOf(fromTrack('42', { name: '/home', type }, OPTIONS));
    expect(operation.action).toBe(type);
  });

  it('rejects unknown type', () => {
    const error = errorOf(fromTrack('42', { name: 'signup', type: 'click' }, OPTIONS));
    expectError(error, 'type', 'invalid_value');
  });

  it('rejects unknown field', () => {
    const error = errorOf(fromTrack('42', { name: 'signup', attributes: {} }, OPTIONS));
    expectError(error, 'attributes', 'unknown_field');
  });

  it('rejects non-object body', () => {
    expectError(errorOf(fromTrack('42', 'signup', OPTIONS)), '', 'invalid_type');
  });

  it('requires name', () => {
    expectError(errorOf(fromTrack('42', {}, OPTIONS)), 'name', 'required');
  });

  it('rejects non-object data', () => {
    const error = errorOf(fromTrack('42', { name: 'signup', data: [1] }, OPTIONS));
    expectError(error, 'data', 'invalid_type');
  });

  it('names data in size errors', () => {
    const options = { limits: { ...DEFAULT_TRACK_LIMITS, maxEventDataBytes: 20 } };
    const error = errorOf(
      fromTrack('42', { name: 'signup', data: { pad: 'x'.repeat(20) } }, options),
    );
    expectError(error, 'data', 'too_large');
  });

  it('keeps timestamp and id', () => {
    const body = { name: 'signup', timestamp: 1_700_000_000, id: ULID.toLowerCase() };
    const operation = valueOf(fromTrack('42', body, OPTIONS));
    expect(operation.timestamp).toBe(1_700_000_000);
    expect(operation.id).toBe(ULID);
  });

  it('reads email path identifier', () => {
    const operation = valueOf(fromTrack('Ann@example.com', { name: 'signup' }, OPTIONS));
    expect(operation.identifiers).toEqual({ email: 'Ann@example.com' });
  });

  it('converts anonymous event', () => {
    const operation = valueOf(fromTrack(undefined, { name: 'visit', anonymous_id: 'a1' }, OPTIONS));
    expect(operation.anonymous_id).toBe('a1');
    expect(operation.identifiers).toBeUndefined();
  });

  it('requires anonymous_id without identifier', () => {
    const error = errorOf(fromTrack(undefined, { name: 'visit' }, OPTIONS));
    expectError(error, 'anonymous_id', 'required');
  });

  it('names anonymous_id in empty error', () => {
    const error = errorOf(fromTrack(undefined, { name: 'visit', anonymous_id: '' }, OPTIONS));
    expectError(error, 'anonymous_id', 'required');
  });

  it('names anonymous_id in size error', () => {
    const body = { name: 'visit', anonymous_id: 'a'.repeat(151) };
    const error = errorOf(fromTrack(undefined, body, OPTIONS));
    expectError(error, 'anonymous_id', 'too_large');
    expect(error.message).toBe('anonymous_id is 151 bytes, over the limit of 150 bytes');
  });
});

describe('fromPersonAction', () => {
  it.each(['delete', 'suppress', 'unsuppress'] as const)('converts %s', (action) => {
    const operation = valueOf(fromPersonAction('ann@example.com', action, OPTIONS));
    expect(operation).toEqual({
      type: 'person',
      action,
      identifiers: { email: 'ann@example.com' },
    });
  });

  it('rejects empty cio_ identifier', () => {
    const error = errorOf(fromPersonAction('cio_', 'suppress', OPTIONS));
    expectError(error, 'identifiers.cio_id', 'required');
  });
});

describe('fromAddDevice', () => {
  it('converts v1 device', () => {
    const body = { device: { id: 'tok-1', platform: 'android', last_used: 1_700_000_000 } };
    const operation = valueOf(fromAddDevice('42', body, OPTIONS));
    expect(operation.device).toEqual({
      token: 'tok-1',
      platform: 'android',
      last_used: 1_700_000_000,
    });
  });

  it('sets add_device action', () => {
    const operation = valueOf(fromAddDevice('42', { device: { id: 'tok-1' } }, OPTIONS));
    expect(operation.action).toBe('add_device');
  });

  it('requires device', () => {
    expectError(errorOf(fromAddDevice('42', {}, OPTIONS)), 'device', 'required');
  });

  it('rejects non-object body', () => {
    expectError(errorOf(fromAddDevice('42', null, OPTIONS)), '', 'invalid_type');
  });
});

describe('fromDeleteDevice', () => {
  it('converts device id', () => {
    const operation = valueOf(fromDeleteDevice('42', 'tok-1', OPTIONS));
    expect(operation).toEqual({
      type: 'person',
      action: 'delete_device',
      identifiers: { id: '42' },
      device: { token: 'tok-1' },
    });
  });
});

describe('fromMerge', () => {
  it('converts primary and secondary', () => {
    const body = { primary: { id: '1' }, secondary: { email: 'ann@example.com' } };
    const operation = valueOf(fromMerge(body, OPTIONS));
    expect(operation).toEqual({ type: 'person', action: 'merge', ...body });
  });

  it('requires secondary', () => {
    const error = errorOf(fromMerge({ primary: { id: '1' } }, OPTIONS));
    expectError(error, 'secondary', 'required');
  });

  it('rejects non-object body', () => {
    expectError(errorOf(fromMerge('1', OPTIONS)), '', 'invalid_type');
  });
});
