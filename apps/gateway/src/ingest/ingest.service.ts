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
  ProducerOverloadedError,
  type ProducerState,
} from '@cio-pipeline/kafka';
import {
  Headers,
  operationKey,
  personKeyOf,
  type Operation,
  type OperationEnvelope,
} from '@cio-pipeline/schemas';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TrackApiError } from '../http/track-api-error';

const CONNECT_RETRY_MS = 2000;
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

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.kafka = createKafka(config.kafka, this.logger);
    this.producer = new LingerProducer(
      createIdempotentProducer(this.kafka),
      config.producer,
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

  async accept(workspace: string, operations: Operation[], requestId: string): Promise<void> {
    if (!this.ready) {
      throw TrackApiError.unavailable('Kafka is not connected yet', this.config.retryAfterSeconds);
    }
    const acceptedAt = Date.now();
    const messages = groupByPerson(operations).map((group) =>
      toMessage(workspace, group, requestId, acceptedAt),
    );
    try {
      await this.producer.send(this.config.kafka.topics.operations.name, messages);
    } catch (error) {
      if (error instanceof KafkaUnavailableError || error instanceof ProducerOverloadedError) {
        throw TrackApiError.unavailable(
          `not accepted: ${error.message}; retry with the same event ids`,
          this.config.retryAfterSeconds,
        );
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

  private async checkLeaders(): Promise<void> {
    const topic = this.config.kafka.topics.operations.name;
    try {
      this.leaderAdmin ??= this.kafka.admin();
      await this.leaderAdmin.connect();
      const metadata = await this.leaderAdmin.fetchTopicMetadata({ topics: [topic] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      const leaderless = partitions.filter((partition) => partition.leader < 0).length;
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
 * Groups a request's operations by person, each group in request order. One
 * Kafka message per person keeps that person's order and writes fewer
 * messages than operations when a batch call names someone more than once.
 */
function groupByPerson(operations: Operation[]): Operation[][] {
  const groups = new Map<string, Operation[]>();
  for (const operation of operations) {
    const key = personKeyOf(operation);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [operation]);
    } else {
      group.push(operation);
    }
  }
  return [...groups.values()];
}

function toMessage(
  workspace: string,
  operations: Operation[],
  requestId: string,
  acceptedAt: number,
): Message {
  const envelope: OperationEnvelope = { workspace, acceptedAt, requestId, operations };
  const [first] = operations as [Operation];
  return {
    key: operationKey(workspace, first),
    value: JSON.stringify(envelope),
    headers: {
      [Headers.workspace]: workspace,
      [Headers.requestId]: requestId,
      [Headers.acceptedAt]: String(acceptedAt),
      [Headers.operationCount]: String(operations.length),
    },
  };
}
