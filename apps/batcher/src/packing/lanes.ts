interface LaneWindow {
  lanes: number;
  startedAt: number;
  bytes: number;
  /** The count the last windows pointed to, and how many windows in a row did. */
  proposed: number;
  streak: number;
}

/** Windows in a row that must point to a new count before it is taken. */
export const STABLE_WINDOWS = 4;

/**
 * Splits a busy workspace's operations into lanes, each with its own open
 * batch, by person hash. The sender never sends two batches about the same
 * person at once, and a batch of 1,460 operations from a large audience
 * almost always shares a person with the next. So one lane delivers at most
 * one batch per Customer.io response time. Batches of different lanes share
 * no person, so the sender can have one in flight per lane.
 *
 * The lane count is the number of full batches the workspace's rate fills in
 * one window, at least 1 and at most `maxLanes`. So each lane still fills
 * its batches when the rate is steady and spread over many people.
 * A new count is taken once `STABLE_WINDOWS` windows in a row point to it,
 * so that a rate near a boundary does not flush open batches every window.
 * Before the count changes, `onChange` is called so that the caller writes
 * the workspace's open batches: a person may move to another lane, and the
 * earlier batch must be written first.
 */
export class LaneSplitter {
  private readonly windows = new Map<string, LaneWindow>();

  constructor(
    private readonly options: {
      /** Length of the window whose bytes set the next lane count, in ms. */
      windowMs: number;
      fullBatchBytes: number;
      maxLanes: number;
      onChange: (workspace: string, lanes: number) => void;
      now?: () => number;
    },
  ) {}

  /** Returns the lane of an operation of `bytes` about the person with `personHash`. */
  laneOf(workspace: string, personHash: number, bytes: number): number {
    const now = this.options.now?.() ?? Date.now();
    let window = this.windows.get(workspace);
    if (window === undefined) {
      window = { lanes: 1, startedAt: now, bytes: 0, proposed: 1, streak: 0 };
      this.windows.set(workspace, window);
    } else if (now - window.startedAt >= this.options.windowMs) {
      // Bytes per window at the rate seen, so that a quiet spell lowers the count.
      const perWindow = (window.bytes * this.options.windowMs) / (now - window.startedAt);
      const full = Math.floor(perWindow / this.options.fullBatchBytes);
      const lanes = Math.min(this.options.maxLanes, Math.max(1, full));
      window.streak = lanes === window.proposed ? window.streak + 1 : 1;
      window.proposed = lanes;
      if (lanes !== window.lanes && window.streak >= STABLE_WINDOWS) {
        this.options.onChange(workspace, lanes);
        window.lanes = lanes;
      }
      window.startedAt = now;
      window.bytes = 0;
    }
    window.bytes += bytes;
    return personHash % window.lanes;
  }

  lanesOf(workspace: string): number {
    return this.windows.get(workspace)?.lanes ?? 1;
  }
}
