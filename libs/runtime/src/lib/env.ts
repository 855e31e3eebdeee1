/**
 * Reads settings from environment variables and collects every invalid value
 * before failing, so one start reports all of them with what is expected.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  string(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  optionalString(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  /** A number within [min, max]; `integer` rejects fractions. */
  number(name: string, fallback: number, range: NumberRange = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      return fallback;
    }
    const value = Number(raw);
    const { min = -Infinity, max = Infinity, integer = true } = range;
    const kind = integer ? 'a whole number' : 'a number';
    if (
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      value < min ||
      value > max
    ) {
      this.problems.push(
        `${name}=${JSON.stringify(raw)} is invalid: expected ${kind}${describeRange(min, max)}`,
      );
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      return fallback;
    }
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) {
      return true;
    }
    if (['false', '0', 'no'].includes(raw.toLowerCase())) {
      return false;
    }
    this.problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      return fallback;
    }
    if ((allowed as readonly string[]).includes(raw)) {
      return raw as T;
    }
    this.problems.push(
      `${name}=${JSON.stringify(raw)} is invalid: expected one of ${allowed.join(', ')}`,
    );
    return fallback;
  }

  /** Records a problem found by a caller's own parsing. */
  report(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws a `ConfigError` listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) {
      throw new ConfigError([...this.problems]);
    }
  }
}

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
}

function describeRange(min: number, max: number): string {
  if (Number.isFinite(min) && Number.isFinite(max)) {
    return ` from ${min} to ${max}`;
  }
  if (Number.isFinite(min)) {
    return ` of at least ${min}`;
  }
  return Number.isFinite(max) ? ` of at most ${max}` : '';
}
