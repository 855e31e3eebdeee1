import { Agent, request } from 'undici';
import { TrackClient } from 'customerio-node';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import type { StackWorkspace } from '@cio-pipeline/stack';

/** What the gateway acknowledged, by the demo's own sequence number on each operation. */
export interface Sent {
  accepted: Set<number>;
  rejected: number;
  /** Per workspace and person, the sequence numbers in the order they were acknowledged. */
  order: Map<string, number[]>;
  calls: number;
}

export interface TrafficPlan {
  people: number;
  /** Track calls per person through the official client, after one identify. */
  tracksPerPerson: number;
  /** v2 batch calls and operations in each. */
  batches: number;
  operationsPerBatch: number;
  concurrency: number;
}

const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const EVENTS = [
  'page_viewed',
  'product_viewed',
  'added_to_cart',
  'checkout_started',
  'order_completed',
];

/**
 * Replays identify and track traffic like a product's backend sends it:
 * the official customerio-node 4.5 client for single calls, pointed at the
 * gateway by its `url` option, and plain v2 batch calls. Each person's calls
 * go one after another, as one user's session would produce them.
 */
export class TrafficReplay {
  private seq = 0;
  readonly sent: Sent = { accepted: new Set(), rejected: 0, order: new Map(), calls: 0 };
  private readonly dispatcher: Agent;
  private readonly httpsAgent: HttpsAgent;
  private readonly ca: Buffer;

  constructor(
    private readonly gatewayUrl: string,
    caFile: string,
    private readonly workspaces: StackWorkspace[],
  ) {
    this.ca = readFileSync(caFile);
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: this.ca });
    this.dispatcher = new Agent({ connect: { ca: this.ca }, connections: 16 });
  }

  async run(plan: TrafficPlan): Promise<void> {
    const clients = this.workspaces.map((workspace) => this.clientFor(workspace));
    let nextPerson = 0;
    let nextBatch = 0;
    const personWorker = async () => {
      while (nextPerson < plan.people) {
        const person = nextPerson++;
        const index = person % this.workspaces.length;
        await this.replayPerson(
          clients[index] as TrackClient,
          this.workspaces[index] as StackWorkspace,
          person,
          plan,
        );
      }
    };
    const batchWorker = async () => {
      while (nextBatch < plan.batches) {
        const batch = nextBatch++;
        await this.sendBatch(
          this.workspaces[batch % this.workspaces.length] as StackWorkspace,
          batch,
          plan,
        );
      }
    };
    const workers = [
      ...Array.from({ length: plan.concurrency }, personWorker),
      ...Array.from({ length: Math.max(1, Math.floor(plan.concurrency / 8)) }, batchWorker),
    ];
    await Promise.all(workers);
  }

  close(): void {
    this.httpsAgent.destroy();
    void this.dispatcher.close();
  }

  private clientFor(workspace: StackWorkspace): TrackClient {
    const url = new URL(this.gatewayUrl);
    // customerio-node 4.5 hands these options to https.request and replaces its base URL with `url`.
    return new TrackClient(workspace.siteId, workspace.apiKey, {
      url: `${this.gatewayUrl}/api/v1`,
      port: Number(url.port),
      agent: this.httpsAgent,
    });
  }

  private async replayPerson(
    client: TrackClient,
    workspace: StackWorkspace,
    person: number,
    plan: TrafficPlan,
  ) {
    const id = `user-${person}`;
    const identifySeq = this.next();
    await this.record(workspace, id, identifySeq, () =>
      client.identify(id, {
        email: `user-${person}@example.com`,
        plan: PLANS[person % PLANS.length],
        created_at: 1_700_000_000 + person,
        demo_seq: identifySeq,
      }),
    );
    for (let i = 0; i < plan.tracksPerPerson; i++) {
      const seq = this.next();
      await this.record(workspace, id, seq, () =>
        client.track(id, {
          name: EVENTS[(person + i) % EVENTS.length],
          data: {
            demo_seq: seq,
            path: `/products/${(person * 7 + i) % 500}`,
            price: (i % 50) + 0.99,
          },
        }),
      );
    }
  }

  private async sendBatch(
    workspace: StackWorkspace,
    batch: number,
    plan: TrafficPlan,
  ): Promise<void> {
    const operations: Record<string, unknown>[] = [];
    const seqs: { seq: number; person: string }[] = [];
    for (let i = 0; i < plan.operationsPerBatch; i++) {
      const seq = this.next();
      // A few operations break a limit on purpose, so the 207 path runs too.
      const tooLong = i === 0 && batch % 10 === 0;
      const person = `batch-user-${batch}-${i % 50}`;
      operations.push({
        type: 'person',
        identifiers: { id: person },
        action: 'event',
        name: tooLong ? 'x'.repeat(200) : EVENTS[i % EVENTS.length],
        attributes: { demo_seq: seq, source: 'v2-batch', position: i },
      });
      seqs.push({ seq, person });
    }
    const credentials = Buffer.from(`${workspace.siteId}:${workspace.apiKey}`).toString('base64');
    const response = await request(`${this.gatewayUrl}/api/v2/batch`, {
      method: 'POST',
      dispatcher: this.dispatcher,
      headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: operations }),
    });
    const text = await response.body.text();
    this.sent.calls += 1;
    if (response.statusCode !== 200 && response.statusCode !== 207) {
      throw new Error(`v2 batch call returned ${response.statusCode}: ${text.slice(0, 300)}`);
    }
    const failed = new Set<number>();
    if (response.statusCode === 207) {
      for (const error of (JSON.parse(text) as { errors: { batch_index: number }[] }).errors) {
        failed.add(error.batch_index);
      }
    }
    seqs.forEach(({ seq, person }, index) => {
      if (failed.has(index)) {
        this.sent.rejected += 1;
      } else {
        this.accept(workspace, person, seq);
      }
    });
  }

  private async record(
    workspace: StackWorkspace,
    person: string,
    seq: number,
    call: () => Promise<unknown>,
  ) {
    this.sent.calls += 1;
    await call();
    this.accept(workspace, person, seq);
  }

  private accept(workspace: StackWorkspace, person: string, seq: number): void {
    this.sent.accepted.add(seq);
    const key = `${workspace.siteId}/${person}`;
    const list = this.sent.order.get(key) ?? [];
    list.push(seq);
    this.sent.order.set(key, list);
  }

  private next(): number {
    this.seq += 1;
    return this.seq;
  }
}
