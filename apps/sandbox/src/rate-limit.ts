import type { SlidingWindow } from './sliding-window';

/**
 * Admits a request when fewer than `limit` requests were admitted in the window ending at
 * `now`, and records it. A limit of 0 admits every request without recording it. Rejected
 * requests are not recorded, so a client that keeps retrying recovers once the window has
 * moved past its earlier admitted requests.
 */
export function admitRequest(window: SlidingWindow, limit: number, now: number): boolean {
  if (limit === 0) {
    return true;
  }
  if (window.count(now) >= limit) {
    return false;
  }
  window.add(now);
  return true;
}
