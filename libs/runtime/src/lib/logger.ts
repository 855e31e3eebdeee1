import { ConsoleLogger, type LogLevel } from '@nestjs/common';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * The services' logger: one JSON object per line on stdout, with the level
 * from `LOG_LEVEL` (fatal, error, warn, log, debug, verbose; default log).
 */
export function createJsonLogger(service: string): ConsoleLogger {
  const wanted = (process.env['LOG_LEVEL'] ?? 'log') as LogLevel;
  const index = Math.max(0, LEVELS.indexOf(wanted));
  return new ConsoleLogger(service, { json: true, logLevels: LEVELS.slice(0, index + 1) });
}
