import { operationKey, personKeyOf, type Operation } from './operation';

function identify(identifiers: Operation['identifiers']): Operation {
  return { type: 'person', action: 'identify', identifiers };
}

describe('personKeyOf', () => {
  it('prefixes id kind', () => {
    expect(personKeyOf(identify({ id: '42' }))).toBe('id:42');
  });

  it('lower-cases email', () => {
    expect(personKeyOf(identify({ email: 'Ann@Example.COM' }))).toBe('email:ann@example.com');
  });

  it('keeps id case', () => {
    expect(personKeyOf(identify({ id: 'User-A' }))).toBe('id:User-A');
  });

  it.each([
    ['cio_id', { cio_id: 'c1' }, 'cio_id:c1'],
    ['phone', { phone: '+15550100' }, 'phone:+15550100'],
  ])('prefixes %s kind', (_kind, identifiers, key) => {
    expect(personKeyOf(identify(identifiers as Operation['identifiers']))).toBe(key);
  });

  it('keys anonymous events by anonymous_id', () => {
    const operation: Operation = { type: 'person', action: 'event', anonymous_id: 'a1' };
    expect(personKeyOf(operation)).toBe('anonymous_id:a1');
  });

  it('keys objects by type and id', () => {
    const operation = identify({ object_type_id: '1', object_id: 'acme' });
    expect(personKeyOf({ ...operation, type: 'object' })).toBe('object:1:acme');
  });

  it('uses merge primary', () => {
    const merge: Operation = {
      type: 'person',
      action: 'merge',
      primary: { email: 'A@example.com' },
      secondary: { id: '7' },
    };
    expect(personKeyOf(merge)).toBe('email:a@example.com');
  });

  it('returns empty without identifiers', () => {
    expect(personKeyOf({ type: 'person', action: 'identify' })).toBe('');
  });
});

describe('operationKey', () => {
  it('joins workspace and person', () => {
    expect(operationKey('site-1', identify({ id: '42' }))).toBe('site-1/id:42');
  });

  it('ignores email case', () => {
    const upper = operationKey('site-1', identify({ email: 'ANN@EXAMPLE.COM' }));
    expect(upper).toBe(operationKey('site-1', identify({ email: 'ann@example.com' })));
  });

  it('separates workspaces', () => {
    const first = operationKey('site-1', identify({ id: '42' }));
    expect(first).not.toBe(operationKey('site-2', identify({ id: '42' })));
  });

  it('separates id from email', () => {
    const byId = operationKey('site-1', identify({ id: 'ann@example.com' }));
    expect(byId).not.toBe(operationKey('site-1', identify({ email: 'ann@example.com' })));
  });
});
