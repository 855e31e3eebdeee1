import { classifyStatus, errorMessageOf, parsePartialErrors, type ResponseKind } from './classify';

describe('classifyStatus', () => {
  it.each<[number, ResponseKind]>([
    [200, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [207, 'partial'],
    [299, 'delivered'],
    [301, 'misrouted'],
    [307, 'misrouted'],
    [308, 'misrouted'],
    [400, 'invalid'],
    [413, 'invalid'],
    [422, 'invalid'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [429, 'throttled'],
    [408, 'retriable'],
    [409, 'retriable'],
    [425, 'retriable'],
    [500, 'retriable'],
    [502, 'retriable'],
    [503, 'retriable'],
    [599, 'retriable'],
    [404, 'rejected'],
    [405, 'rejected'],
    [410, 'rejected'],
    [100, 'rejected'],
  ])('classifies %i as %s', (status, kind) => {
    expect(classifyStatus(status)).toBe(kind);
  });
});

describe('parsePartialErrors', () => {
  it('reads errors array', () => {
    const body = JSON.stringify({
      errors: [
        { batch_index: 0, reason: 'invalid_value', field: 'timestamp', message: 'bad timestamp' },
        { batch_index: 3, reason: 'too_large', message: 'too big' },
      ],
    });
    expect(parsePartialErrors(body)).toEqual([
      { batch_index: 0, reason: 'invalid_value', field: 'timestamp', message: 'bad timestamp' },
      { batch_index: 3, reason: 'too_large', message: 'too big' },
    ]);
  });

  it('omits missing field', () => {
    const [error] = parsePartialErrors(
      '{"errors":[{"batch_index":1,"reason":"r","message":"m"}]}',
    )!;
    expect(error).not.toHaveProperty('field');
  });

  it('fills missing reason and message', () => {
    expect(parsePartialErrors('{"errors":[{"batch_index":2}]}')).toEqual([
      { batch_index: 2, reason: 'rejected', message: 'rejected by Customer.io' },
    ]);
  });

  it('drops non-string field', () => {
    const [error] = parsePartialErrors('{"errors":[{"batch_index":1,"field":7}]}')!;
    expect(error).not.toHaveProperty('field');
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['string', '"1"'],
    ['null', 'null'],
  ])('drops %s batch_index', (_kind, index) => {
    const body = `{"errors":[{"batch_index":${index}},{"batch_index":4}]}`;
    expect(parsePartialErrors(body)?.map((error) => error.batch_index)).toEqual([4]);
  });

  it.each(['null', '7', '"text"', '[]', 'true'])('drops junk entry %s', (entry) => {
    const body = `{"errors":[${entry},{"batch_index":4}]}`;
    expect(parsePartialErrors(body)?.map((error) => error.batch_index)).toEqual([4]);
  });

  it('returns empty for empty errors', () => {
    expect(parsePartialErrors('{"errors":[]}')).toEqual([]);
  });

  it.each([
    ['non-JSON', '<html>bad gateway</html>'],
    ['empty', ''],
    ['null', 'null'],
    ['number', '42'],
    ['missing errors', '{"meta":{}}'],
    ['object errors', '{"errors":{"batch_index":0}}'],
  ])('returns undefined for %s body', (_kind, body) => {
    expect(parsePartialErrors(body)).toBeUndefined();
  });
});

describe('errorMessageOf', () => {
  it('reads meta.error', () => {
    expect(errorMessageOf('{"meta":{"error":"invalid site id"}}')).toBe('invalid site id');
  });

  it('joins meta.errors', () => {
    const body = '{"meta":{"errors":["name is required","id is too long"]}}';
    expect(errorMessageOf(body)).toBe('name is required; id is too long');
  });

  it('returns non-JSON body', () => {
    expect(errorMessageOf('Service Unavailable')).toBe('Service Unavailable');
  });

  it('returns JSON without meta', () => {
    expect(errorMessageOf('{"message":"nope"}')).toBe('{"message":"nope"}');
  });

  it('returns body for null JSON', () => {
    expect(errorMessageOf('null')).toBe('null');
  });

  it('cuts long body to 500 characters', () => {
    expect(errorMessageOf(`<html>${'x'.repeat(1000)}`)).toHaveLength(500);
  });

  it('returns empty for empty body', () => {
    expect(errorMessageOf('')).toBe('');
  });
});
