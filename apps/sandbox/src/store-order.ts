import type { WorkspaceState } from './state';

/**
 * Stores each workspace's operations in the order their requests reached the
 * handlers, even when a later, shorter request finishes validation first.
 */
export class StoreOrder {
  private readonly last = new Map<WorkspaceState, Promise<void>>();

  /** Runs `check`, then `store` with its result once every earlier request of the workspace has stored. */
  async inTurn<T>(
    workspace: WorkspaceState,
    check: () => T | Promise<T>,
    store: (value: T) => unknown,
  ): Promise<T> {
    const previous = this.last.get(workspace) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.last.set(workspace, mine);
    try {
      const value = await check();
      await previous;
      store(value);
      return value;
    } finally {
      release();
      if (this.last.get(workspace) === mine) {
        this.last.delete(workspace);
      }
    }
  }
}
