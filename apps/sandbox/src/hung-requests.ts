import type { Socket } from 'node:net';

/**
 * Sockets of requests that the sandbox never responds to. Each is destroyed after `maxMs`,
 * when the client closes it, or by `destroyAll` when the server closes, so none outlives
 * the server.
 */
export class HungRequests {
  private readonly timers = new Map<Socket, NodeJS.Timeout>();

  constructor(private readonly maxMs: number) {}

  get size(): number {
    return this.timers.size;
  }

  hold(socket: Socket): void {
    if (this.timers.has(socket)) {
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(socket);
      socket.destroy();
    }, this.maxMs);
    timer.unref();
    this.timers.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.timers.delete(socket);
    });
  }

  destroyAll(): void {
    for (const [socket, timer] of this.timers) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.timers.clear();
  }
}
