import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { ConfigError } from './env';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Creates the services' logger, which writes one JSON object per line to
 * stdout at the level of `LOG_LEVEL` (fatal, error, warn, log, debug, verbose;
 * default log).
 */
export function createJsonLogger(service: string): ConsoleLogger {
  const wanted = process.env['LOG_LEVEL'] ?? 'log';
  const index = LEVELS.indexOf(wanted as LogLevel);
  if (index < 0) {
    throw new ConfigError([
      `LOG_LEVEL=${JSON.stringify(wanted)} is invalid: expected one of ${LEVELS.join(', ')}`,
    ]);
  }
  return new ConsoleLogger(service, { json: true, logLevels: LEVELS.slice(0, index + 1) });
}
