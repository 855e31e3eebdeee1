/** Readers of numeric settings from environment variables, for the benchmark and the soak. */
export class EnvSettings {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Reads a number of at least `min`; an unset or empty variable gives `fallback`. */
  number(name: string, fallback: number, min = 0): number {
    const text = this.env[name]?.trim() ?? '';
    if (text === '') {
      return fallback;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) {
      this.problems.push(
        `${name}=${JSON.stringify(text)} is invalid: expected a number of at least ${min}`,
      );
      return fallback;
    }
    return value;
  }

  /** Reads a whole number of at least `min`. */
  integer(name: string, fallback: number, min = 0): number {
    const value = this.number(name, fallback, min);
    if (!Number.isInteger(value)) {
      this.problems.push(`${name}=${value} is invalid: expected a whole number`);
      return fallback;
    }
    return value;
  }

  /** Reads a comma-separated list of whole numbers of at least `min`. */
  integers(name: string, fallback: number[], min = 1): number[] {
    const text = this.env[name]?.trim() ?? '';
    if (text === '') {
      return fallback;
    }
    const values = text.split(',').map((part) => Number(part.trim()));
    if (values.some((value) => !Number.isInteger(value) || value < min)) {
      this.problems.push(
        `${name}=${JSON.stringify(text)} is invalid: expected whole numbers of at least ${min}, separated by commas`,
      );
      return fallback;
    }
    return values;
  }

  text(name: string, fallback: string): string {
    const text = this.env[name]?.trim() ?? '';
    return text === '' ? fallback : text;
  }

  /** Throws one Error that names every invalid variable read so far. */
  check(): void {
    if (this.problems.length > 0) {
      throw new Error(`invalid settings: ${this.problems.join('; ')}`);
    }
  }
}
