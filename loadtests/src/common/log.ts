/** Prints a progress line with the time of day, like the demo's. */
export function log(tool: string, message: string): void {
  process.stdout.write(`[${tool} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Formats a rate or count with thousands separators and at most one decimal. */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 2 : 1 });
}
