import type { LoggerService } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { installCrc32c } from './crc32c';
import { installEncoderGrowth } from './encoder-growth';
import type { KafkaSettings } from './settings';

/**
 * Creates a kafkajs client whose log lines go to the service's structured
 * logger, whose record batches get their checksum from `crc32c`, and whose
 * encoder grows its buffers without zero-filling them.
 */
export function createKafka(settings: KafkaSettings, logger: LoggerService): Kafka {
  if (!installCrc32c()) {
    logger.warn(
      'the faster CRC-32C was not installed, because kafkajs loaded its record batch module ' +
        'first or moved it; record batches keep the checksum of kafkajs',
    );
  }
  if (!installEncoderGrowth()) {
    logger.warn(
      'the encoder growth without zero-fill was not installed, because kafkajs is not ' +
        '2.2.4 or moved its encoder module; kafkajs keeps zero-filling the buffers it grows',
    );
  }
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      const line = { message: `kafkajs: ${message}`, namespace: entry.namespace, ...fields };
      switch (entry.level) {
        case logLevel.ERROR:
          logger.error(line);
          break;
        case logLevel.WARN:
          logger.warn(line);
          break;
        case logLevel.INFO:
          logger.log(line);
          break;
        case logLevel.DEBUG:
        case logLevel.NOTHING:
          logger.debug?.(line);
          break;
      }
    },
  });
}
