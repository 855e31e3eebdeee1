/** What the sender does with an answer from Customer.io. */
export type ResponseKind =
  | 'delivered'
  | 'partial'
  | 'invalid'
  | 'unauthorized'
  | 'throttled'
  | 'retriable'
  | 'misrouted'
  | 'rejected';

export function classifyStatus(status: number): ResponseKind {
  if (status === 207) {
    return 'partial';
  }
  if (status >= 200 && status < 300) {
    return 'delivered';
  }
  if (status >= 300 && status < 400) {
    // An EU workspace sent to the US host is redirected; the region setting is wrong.
    return 'misrouted';
  }
  switch (status) {
    case 400:
    case 413:
    case 422:
      return 'invalid';
    case 401:
    case 403:
      return 'unauthorized';
    case 429:
      return 'throttled';
    case 408:
    case 409:
    case 425:
      return 'retriable';
    default:
      return status >= 500 ? 'retriable' : 'rejected';
  }
}

/** One entry of a 207 body's `errors[]`. */
export interface ItemError {
  batch_index: number;
  reason: string;
  field?: string;
  message: string;
}

/** Reads `errors[]` from a 207 body; entries without a valid index are dropped. */
export function parsePartialErrors(body: string): ItemError[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) {
    return undefined;
  }
  return errors.flatMap((item: unknown) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const index = entry['batch_index'];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      return [];
    }
    const field = typeof entry['field'] === 'string' ? entry['field'] : undefined;
    return [
      {
        batch_index: index,
        reason: typeof entry['reason'] === 'string' ? entry['reason'] : 'rejected',
        message:
          typeof entry['message'] === 'string' ? entry['message'] : 'rejected by Customer.io',
        ...(field === undefined ? {} : { field }),
      },
    ];
  });
}

/** Reads Customer.io's `{"meta": {"error": ...}}` or `{"meta": {"errors": [...]}}` message. */
export function errorMessageOf(body: string): string {
  try {
    const meta = (JSON.parse(body) as { meta?: { error?: unknown; errors?: unknown } } | null)
      ?.meta;
    if (typeof meta?.error === 'string') {
      return meta.error;
    }
    if (Array.isArray(meta?.errors)) {
      return meta.errors.map(String).join('; ');
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.slice(0, 500);
}
