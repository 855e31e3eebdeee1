import type { Region, SandboxConfig, WorkspaceConfig } from './config';
import { EventIdSet } from './event-ids';
import { FaultInjector, type FaultsView } from './faults';
import { HungRequests } from './hung-requests';
import { type Operation, isEventAction } from './operations';
import { SlidingWindow } from './sliding-window';
import { Counters, type CountersView } from './stats';
import { OperationStore } from './store';

/** Runtime state of one configured workspace. */
export interface WorkspaceState {
  readonly config: WorkspaceConfig;
  /** Numeric id returned as `environment_id` by the region endpoint: 1, 2, ... in configuration order. */
  readonly environmentId: number;
  /** Current requests allowed per sliding 1000 ms window, 0 for unlimited. */
  rateLimitPerSecond: number;
  counters: Counters;
  /** Admitted requests in the last 1000 ms, for the rate limit. */
  readonly rateWindow: SlidingWindow;
  readonly eventIds: EventIdSet;
}

/** Per-workspace figures of `GET /__sandbox/stats`. */
export type WorkspaceStatsView = CountersView & { region: Region; rateLimitPerSecond: number };

/** Body of `GET /__sandbox/stats`. */
export interface StatsView {
  region: Region;
  /** Start time of the sandbox or time of the last reset, as ISO 8601. */
  since: string;
  retention: { maxOperations: number; stored: number; notStored: number };
  faults: FaultsView;
  total: CountersView;
  workspaces: Record<string, WorkspaceStatsView>;
}

/** Whether an accepted operation was stored (or counted over retention) or dropped as a duplicate event. */
export type AcceptResult = 'accepted' | 'duplicate';

/** Workspaces, counters, stored operations and fault settings of one sandbox instance. */
export class SandboxState {
  readonly workspaces = new Map<string, WorkspaceState>();
  readonly store: OperationStore;
  readonly hung: HungRequests;
  private totalCounters = new Counters();
  private faultInjector: FaultInjector;
  private since = new Date();

  constructor(
    private readonly config: SandboxConfig,
    /** Monotonic clock in ms for rate windows and fault periods. */
    readonly now: () => number,
    /** Called once when the store first leaves an operation out, and again after each reset. */
    private readonly onRetentionReached: () => void = () => undefined,
  ) {
    this.store = new OperationStore(config.retentionOperations);
    this.hung = new HungRequests(config.hangMaxMs);
    this.faultInjector = new FaultInjector(config.faults, config.seed, now);
    config.workspaces.forEach((workspace, index) => {
      this.workspaces.set(workspace.siteId, {
        config: workspace,
        environmentId: index + 1,
        rateLimitPerSecond: workspace.rateLimitPerSecond ?? config.rateLimitPerSecond,
        counters: new Counters(),
        rateWindow: new SlidingWindow(1000),
        eventIds: new EventIdSet(),
      });
    });
  }

  get faults(): FaultInjector {
    return this.faultInjector;
  }

  recordArrival(workspace: WorkspaceState | null, now: number): void {
    this.totalCounters.recordArrival(now);
    workspace?.counters.recordArrival(now, workspace.rateLimitPerSecond);
  }

  recordStatus(workspace: WorkspaceState | null, status: number): void {
    this.totalCounters.recordStatus(status);
    workspace?.counters.recordStatus(status);
  }

  recordHung(workspace: WorkspaceState | null): void {
    this.totalCounters.requestsHung += 1;
    if (workspace !== null) {
      workspace.counters.requestsHung += 1;
    }
  }

  recordDropped(workspace: WorkspaceState | null): void {
    this.totalCounters.requestsDropped += 1;
    if (workspace !== null) {
      workspace.counters.requestsDropped += 1;
    }
  }

  recordRejected(workspace: WorkspaceState, count: number): void {
    this.totalCounters.rejectedOperations += count;
    workspace.counters.rejectedOperations += count;
  }

  recordBatch(workspace: WorkspaceState, bytes: number, operations: number): void {
    this.totalCounters.recordBatch(bytes, operations);
    workspace.counters.recordBatch(bytes, operations);
  }

  /**
   * Stores a valid operation, unless it is an event whose id the workspace has seen
   * before. Such duplicates are dropped and counted. Ids are compared in upper case
   * because ULIDs are case-insensitive.
   */
  accept(workspace: WorkspaceState, operation: Operation, source: string): AcceptResult {
    if (isEventAction(operation.action) && typeof operation.id === 'string') {
      if (!workspace.eventIds.addIfAbsent(operation.id.toUpperCase())) {
        this.totalCounters.duplicatesDropped += 1;
        workspace.counters.duplicatesDropped += 1;
        return 'duplicate';
      }
    }
    const notStoredBefore = this.store.notStored;
    this.store.add(workspace.config.siteId, source, operation, Date.now());
    if (notStoredBefore === 0 && this.store.notStored === 1) {
      this.onRetentionReached();
    }
    this.totalCounters.recordAccepted(operation.action);
    workspace.counters.recordAccepted(operation.action);
    return 'accepted';
  }

  /** Sets the rate limit of one workspace, or of every workspace when `siteId` is undefined. */
  setRateLimit(requestsPerSecond: number, siteId: string | undefined): void {
    for (const workspace of this.workspaces.values()) {
      if (siteId === undefined || workspace.config.siteId === siteId) {
        workspace.rateLimitPerSecond = requestsPerSecond;
        workspace.rateWindow.clear();
      }
    }
  }

  rateLimits(): Record<string, number> {
    const limits: Record<string, number> = {};
    for (const [siteId, workspace] of this.workspaces) {
      limits[siteId] = workspace.rateLimitPerSecond;
    }
    return limits;
  }

  /**
   * Clears stored operations, event ids, counters and rate windows. With `restoreSettings`,
   * also restores the fault settings, seed and rate limits of the startup configuration.
   * Hung requests stay hung.
   */
  reset(restoreSettings: boolean): void {
    this.store.clear();
    this.totalCounters = new Counters();
    this.since = new Date();
    for (const workspace of this.workspaces.values()) {
      workspace.counters = new Counters();
      workspace.rateWindow.clear();
      workspace.eventIds.clear();
      if (restoreSettings) {
        workspace.rateLimitPerSecond =
          workspace.config.rateLimitPerSecond ?? this.config.rateLimitPerSecond;
      }
    }
    if (restoreSettings) {
      this.faultInjector = new FaultInjector(
        { ...this.config.faults, downForMs: 0 },
        this.config.seed,
        this.now,
      );
    }
  }

  stats(): StatsView {
    const now = this.now();
    const workspaces: Record<string, WorkspaceStatsView> = {};
    let uniqueEventIds = 0;
    for (const [siteId, workspace] of this.workspaces) {
      uniqueEventIds += workspace.eventIds.size;
      workspaces[siteId] = {
        ...workspace.counters.view(now, workspace.eventIds.size),
        region: workspace.config.region,
        rateLimitPerSecond: workspace.rateLimitPerSecond,
      };
    }
    return {
      region: this.config.region,
      since: this.since.toISOString(),
      retention: {
        maxOperations: this.store.retentionLimit,
        stored: this.store.stored,
        notStored: this.store.notStored,
      },
      faults: this.faultInjector.view(),
      total: this.totalCounters.view(now, uniqueEventIds),
      workspaces,
    };
  }
}
