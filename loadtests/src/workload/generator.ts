// k6 loads this file too and resolves only import paths with their extension;
// tsc rewrites `.ts` to `.js` in the Node.js build.
import { utf8ByteLength, type Profile, type Range } from './profile.ts';

/**
 * The load test scenarios. Each one is a kind of Track API call that the
 * k6 scripts and the benchmark send to the gateway.
 */
export const SCENARIOS = ['identify', 'track', 'mixed', 'batch'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** A v2 operation as the generator writes it into `/api/v2/batch` bodies. */
export interface V2Operation {
  type: 'person';
  action: 'identify' | 'event';
  identifiers: { id: string };
  name?: string;
  attributes: Record<string, string>;
}

/** One HTTP call of Customer.io's Track API, ready to send. */
export interface TrackApiCall {
  kind: 'identify' | 'track' | 'batch';
  method: 'PUT' | 'POST';
  /** Path with the person's id, such as `/api/v1/customers/user-42`. */
  path: string;
  /** Route name without the person's id, for metric tags. */
  route: string;
  body: string;
  /** UTF-8 bytes of `body`. */
  bodyBytes: number;
  /** Operations the call carries: 1 for a v1 call. */
  operations: number;
}

export interface GeneratorOptions {
  /** Seed of the pseudo-random sequence; the same seed gives the same calls. */
  seed: number;
  /** Largest `/api/v2/batch` body; a batch call stops adding operations before passing it. */
  maxBatchBytes: number;
}

/** Identify attributes after `email`, then `attribute_<n>`; none longer than 16 bytes. */
const ATTRIBUTE_NAMES = [
  'first_name',
  'last_name',
  'plan',
  'company',
  'job_title',
  'city',
  'country',
  'language',
  'timezone',
  'signup_source',
  'lifetime_value',
  'orders_count',
  'last_order_id',
  'favorite_color',
  'referral_code',
  'marketing_opt_in',
];

/** Event data properties, then `property_<n>`; none longer than 16 bytes. */
const PROPERTY_NAMES = [
  'path',
  'product_id',
  'category',
  'price',
  'currency',
  'quantity',
  'referrer',
  'campaign',
  'variant',
  'coupon',
  'search_term',
  'cart_id',
  'order_id',
  'payment_method',
  'shipping_method',
  'device_type',
];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Characters of the random text that values are cut from; longer than any allowed value. */
const TEXT_POOL_LENGTH = 8192;
/** Bytes of `{"batch":[` and `]}` around a batch body's operations. */
const BATCH_ENVELOPE_BYTES = '{"batch":[]}'.length;

/**
 * Generates Track API calls that follow a profile, from a seeded
 * pseudo-random sequence. Values are ASCII, so their length in characters
 * is their size in bytes.
 */
export class TrafficGenerator {
  private state: number;
  private readonly text: string;
  private readonly eventWeights: number[];

  constructor(
    private readonly profile: Profile,
    private readonly options: GeneratorOptions,
  ) {
    // mulberry32 takes a 32-bit state; 0 would work too but is easy to pass by mistake.
    this.state = options.seed >>> 0 || 0x9e3779b9;
    let text = '';
    for (let i = 0; i < TEXT_POOL_LENGTH; i++) {
      text += ALPHABET.charAt(this.integer(0, ALPHABET.length - 1));
    }
    this.text = text;
    this.eventWeights = profile.events.names.map((event) => event.weight);
  }

  /** Returns the next call of a scenario; `mixed` picks identify, track or batch by the profile's weights. */
  next(scenario: ScenarioName): TrackApiCall {
    switch (scenario) {
      case 'identify':
        return this.identifyCall();
      case 'track':
        return this.trackCall();
      case 'batch':
        return this.batchCall();
      case 'mixed':
        return this.mixedCall();
    }
  }

  /** Returns an identify or a track call, in the proportion of the profile's `mixed` weights. */
  singleCall(): TrackApiCall {
    const { identify, track } = this.profile.mixed;
    if (identify + track === 0) {
      return this.trackCall();
    }
    return this.weightedIndex([identify, track]) === 0 ? this.identifyCall() : this.trackCall();
  }

  /** `PUT /api/v1/customers/:id` with the person's attributes. */
  identifyCall(): TrackApiCall {
    const operation = this.identifyOperation();
    const id = operation.identifiers.id;
    return v1Call(
      'identify',
      'PUT',
      `/api/v1/customers/${id}`,
      '/api/v1/customers/:id',
      JSON.stringify(operation.attributes),
    );
  }

  /** `POST /api/v1/customers/:id/events` with an event name and data. */
  trackCall(): TrackApiCall {
    const operation = this.eventOperation();
    const id = operation.identifiers.id;
    const body = JSON.stringify({ name: operation.name, data: operation.attributes });
    return v1Call(
      'track',
      'POST',
      `/api/v1/customers/${id}/events`,
      '/api/v1/customers/:id/events',
      body,
    );
  }

  /** `POST /api/v2/batch` with operations of the batch mix. */
  batchCall(): TrackApiCall {
    const serialized = this.drawBatch().map((entry) => entry.text);
    const body = `{"batch":[${serialized.join(',')}]}`;
    return {
      kind: 'batch',
      method: 'POST',
      path: '/api/v2/batch',
      route: '/api/v2/batch',
      body,
      bodyBytes: utf8ByteLength(body),
      operations: serialized.length,
    };
  }

  /**
   * Returns the operations of one batch call: a count drawn from
   * `batch.operations`, cut short where the next operation would take the
   * body past `maxBatchBytes`. Always at least one operation.
   */
  batchOperations(): V2Operation[] {
    return this.drawBatch().map((entry) => entry.operation);
  }

  /** Draws one batch's operations with their JSON text, serialized once for size and body alike. */
  private drawBatch(): { operation: V2Operation; text: string }[] {
    const count = this.between(this.profile.batch.operations);
    const entries: { operation: V2Operation; text: string }[] = [];
    let bytes = BATCH_ENVELOPE_BYTES;
    for (let i = 0; i < count; i++) {
      const operation = this.batchOperation();
      const text = JSON.stringify(operation);
      const added = utf8ByteLength(text) + (i === 0 ? 0 : 1);
      if (i > 0 && bytes + added > this.options.maxBatchBytes) {
        break;
      }
      entries.push({ operation, text });
      bytes += added;
    }
    return entries;
  }

  /** Returns one operation of the batch mix: identify with probability `batch.identifyShare`, otherwise an event. */
  batchOperation(): V2Operation {
    return this.random() < this.profile.batch.identifyShare
      ? this.identifyOperation()
      : this.eventOperation();
  }

  identifyOperation(): V2Operation {
    const person = this.person();
    const attributes: Record<string, string> = { email: `${person}@example.com` };
    const count = this.between(this.profile.identify.attributeCount);
    for (let i = 1; i < count; i++) {
      attributes[propertyName(ATTRIBUTE_NAMES, 'attribute_', i - 1)] = this.value(
        this.profile.identify.valueBytes,
      );
    }
    return { type: 'person', action: 'identify', identifiers: { id: person }, attributes };
  }

  eventOperation(): V2Operation {
    const person = this.person();
    const event = this.profile.events.names[this.weightedIndex(this.eventWeights)];
    const attributes: Record<string, string> = {};
    const count = this.between(this.profile.events.dataCount);
    for (let i = 0; i < count; i++) {
      attributes[propertyName(PROPERTY_NAMES, 'property_', i)] = this.value(
        this.profile.events.valueBytes,
      );
    }
    return {
      type: 'person',
      action: 'event',
      identifiers: { id: person },
      name: event?.name ?? 'event',
      attributes,
    };
  }

  private mixedCall(): TrackApiCall {
    const { identify, track, batch } = this.profile.mixed;
    switch (this.weightedIndex([identify, track, batch])) {
      case 0:
        return this.identifyCall();
      case 1:
        return this.trackCall();
      default:
        return this.batchCall();
    }
  }

  private person(): string {
    return `user-${this.integer(0, this.profile.people - 1)}`;
  }

  private value(range: Range): string {
    const length = this.between(range);
    const start = this.integer(0, TEXT_POOL_LENGTH - length);
    return this.text.slice(start, start + length);
  }

  private between(range: Range): number {
    return this.integer(range.min, range.max);
  }

  private weightedIndex(weights: number[]): number {
    let total = 0;
    for (const weight of weights) {
      total += weight;
    }
    let point = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      point -= weights[i] ?? 0;
      if (point < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  /** Returns a whole number from `min` to `max`, both included. */
  private integer(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** mulberry32: a small, fast 32-bit generator, enough for test data. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

function v1Call(
  kind: 'identify' | 'track',
  method: 'PUT' | 'POST',
  path: string,
  route: string,
  body: string,
): TrackApiCall {
  return { kind, method, path, route, body, bodyBytes: utf8ByteLength(body), operations: 1 };
}

function propertyName(names: string[], prefix: string, index: number): string {
  return names[index] ?? `${prefix}${index}`;
}
