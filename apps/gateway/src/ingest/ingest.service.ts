import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Admin, Message } from 'kafkajs';
import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  KafkaUnavailableError,
  LingerProducer,
  partitionForKey,
  ProducerOverloadedError,
  type MessageCombiner,
  type ProducerState,
} from '@cio-pipeline/kafka';
import {
  encodeLinesEnvelope,
  hashPerson,
  joinLinesEnvelopes,
  personKeyOf,
  personMessageKey,
  type Operation,
} from '@cio-pipeline/schemas';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';

const CONNECT_RETRY_MS = 2000;

/**
 * Envelopes of concurrent requests bound for one partition travel as one
 * message, one after another, which costs the producer one record instead
 * of one per request. The cap keeps messages small for the batcher: in the
 * benchmark, with the earlier JSON format, a cap of 256 KiB cut delivery
 * with two workspaces from 0.96 to 0.70 of the rate cap, and 32 KiB did
 * not. NOTE: why large messages slowed delivery down was not found.
 */
const JOINED_ENVELOPES: MessageCombiner = {
  maxBytes: 32 * 1024,
  join: joinLinesEnvelopes,
};
/** How often the operations topic's partition leaders are checked. */
const LEADER_CHECK_MS = 5000;
/** Readiness holds this long after the last check that found every partition led. */
const LEADER_CHECK_VALID_MS = 15_000;

/**
 * Writes accepted operations to the operations topic and resolves only once
 * Kafka acknowledged them. Kafka being down or the producer being full is
 * answered with 503 and Retry-After, never with a silent drop.
 */
@Injectable()
export class IngestService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(IngestService.name);
  private readonly kafka;
  private readonly producer: LingerProducer;
  private ready = false;
  private stopping = false;
  private admin: Admin | undefined;
  private connecting: Promise<void> = Promise.resolve();
  private leaderCheck: NodeJS.Timeout | undefined;
  private leaderAdmin: Admin | undefined;
  private leadersOkAt = 0;
  private leaderProblem: string | undefined;
  private partitionCount = 0;
  private partitionOf: ((key: string) => number) | undefined;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.kafka = createKafka(config.kafka, this.logger);
    this.producer = new LingerProducer(
      createIdempotentProducer(this.kafka),
      { ...config.producer, combine: JOINED_ENVELOPES },
      this.logger,
    );
  }

  onModuleInit(): void {
    this.connecting = this.connectUntilReady();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.leaderCheck);
    // A connect still in progress would go on retrying after shutdown.
    await this.admin?.disconnect();
    await this.connecting;
    await this.leaderAdmin?.disconnect();
    await this.producer.disconnect();
  }

  /**
   * Ready when connected and a check within the last 15 s found a leader for
   * every partition of the operations topic: without one, writes to that
   * partition cannot succeed. A failed write alone does not end readiness,
   * since an unready gateway gets no traffic to show it recovered.
   */
  isReady(): boolean {
    const leadersFresh = Date.now() - this.leadersOkAt < LEADER_CHECK_VALID_MS;
    return this.ready && this.producer.state().connected && leadersFresh;
  }

  producerState(): ProducerState & {
    leadersCheckedMsAgo: number;
    leaderProblem: string | undefined;
  } {
    return {
      ...this.producer.state(),
      leadersCheckedMsAgo: Date.now() - this.leadersOkAt,
      leaderProblem: this.leaderProblem,
    };
  }

  /**
   * Writes `operations` and resolves once Kafka acknowledged them. `serialized`
   * holds their JSON text when the caller has it already.
   */
  async accept(
    workspace: string,
    operations: Operation[],
    requestId: string,
    serialized: string[] = [],
  ): Promise<void> {
    if (!this.ready) {
      throw TrackApiError.unavailable('Kafka is not connected yet', this.config.retryAfterSeconds);
    }
    const acceptedAt = Date.now();
    const groups = groupOperations(workspace, operations, serialized, this.partitionOf);
    const messages = groups.map((group) => toMessage(workspace, group, requestId, acceptedAt));
    try {
      await this.producer.send(this.config.kafka.topics.operations.name, messages);
    } catch (error) {
      if (error instanceof KafkaUnavailableError || error instanceof ProducerOverloadedError) {
        throw TrackApiError.unavailable(unavailableMessage(error), this.config.retryAfterSeconds);
      }
      throw error;
    }
  }

  /** Read through a call: shutdown sets the flag while a connect is awaited. */
  private isStopping(): boolean {
    return this.stopping;
  }

  private async connectUntilReady(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.ensureTopics();
        if (this.isStopping()) {
          return;
        }
        await this.producer.connect();
        await this.checkLeaders();
        this.leaderCheck = setInterval(() => {
          void this.checkLeaders();
        }, LEADER_CHECK_MS);
        this.ready = true;
        this.logger.log({ message: 'connected to Kafka', brokers: this.config.kafka.brokers });
        return;
      } catch (error) {
        this.logger.warn({
          message: 'Kafka connection failed; retrying',
          error: (error as Error).message,
          retryInMs: CONNECT_RETRY_MS,
        });
        if (!this.isStopping()) {
          await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
        }
      }
    }
  }

  /** Maps keys to partitions as kafkajs's default partitioner would for `count` partitions. */
  private updatePartitioner(count: number): void {
    if (count === 0 || count === this.partitionCount) {
      return;
    }
    this.partitionCount = count;
    this.partitionOf = (key) => partitionForKey(key, count);
  }

  private async checkLeaders(): Promise<void> {
    const topic = this.config.kafka.topics.operations.name;
    try {
      this.leaderAdmin ??= this.kafka.admin();
      await this.leaderAdmin.connect();
      const metadata = await this.leaderAdmin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      const leaderless = partitions.filter((partition) => partition.leader < 0).length;
      this.updatePartitioner(partitions.length);
      if (partitions.length > 0 && leaderless === 0) {
        this.leadersOkAt = Date.now();
        this.leaderProblem = undefined;
      } else {
        this.leaderProblem = `${leaderless} of ${partitions.length} partitions of ${topic} have no leader`;
      }
    } catch (error) {
      this.leaderProblem = `partition leaders of ${topic} could not be read: ${(error as Error).message}`;
    }
  }

  private async ensureTopics(): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    try {
      await admin.connect();
      await ensureTopics(admin, Object.values(this.config.kafka.topics), this.logger);
    } finally {
      this.admin = undefined;
      await admin.disconnect();
    }
  }
}

/**
 * Returns the 503 message for a write that Kafka did not acknowledge. A write
 * that was already in a request when its time ran out may still be stored, so
 * a retry can store its operations twice. Customer.io drops a repeated event
 * only when both copies carry the same `id`.
 */
export function unavailableMessage(error: KafkaUnavailableError | ProducerOverloadedError): string {
  const written = (error.cause as { written?: unknown } | undefined)?.written;
  if (written === 'unknown') {
    return (
      `may have been accepted: ${error.message}; a retry may store it twice, ` +
      'so give events an id of your own to let Customer.io drop the repeat'
    );
  }
  return `not accepted: ${error.message}; retry`;
}

/** One operations-topic message in the making: operations of one partition, in request order. */
interface PartitionGroup {
  partition: number | undefined;
  key: string;
  operations: string[];
  persons: number[];
}

/**
 * Groups a request's operations by the partition their key maps to, with
 * kafkajs's default partitioner, so a batch call becomes at most one Kafka
 * message per partition instead of one per operation. A person's operations
 * all map to one partition and keep their request order inside it. Before
 * the partition count is known, operations are grouped by person instead.
 */
function groupOperations(
  workspace: string,
  operations: Operation[],
  serialized: string[],
  partitionOf: ((key: string) => number) | undefined,
): PartitionGroup[] {
  const groups = new Map<string | number, PartitionGroup>();
  operations.forEach((operation, index) => {
    const personKey = personKeyOf(operation);
    const key = personMessageKey(workspace, personKey);
    const partition = partitionOf?.(key);
    const groupKey = partition ?? key;
    let group = groups.get(groupKey);
    if (group === undefined) {
      group = { partition, key, operations: [], persons: [] };
      groups.set(groupKey, group);
    }
    group.operations.push(serialized[index] ?? JSON.stringify(operation));
    group.persons.push(hashPerson(personKey));
  });
  return [...groups.values()];
}

/** Builds the message, an envelope in the lines format around the operations' JSON text. */
function toMessage(
  workspace: string,
  group: PartitionGroup,
  requestId: string,
  acceptedAt: number,
): Message {
  const value = encodeLinesEnvelope(
    workspace,
    acceptedAt,
    requestId,
    group.operations,
    group.persons,
  );
  // No headers: the envelope carries the same fields, and headers would keep
  // the producer from joining this message with others of its partition.
  return {
    key: group.key,
    value,
    ...(group.partition === undefined ? {} : { partition: group.partition }),
  };
}
