import type { WorkspaceState } from './state';

declare module 'fastify' {
  interface FastifyRequest {
    /** Workspace named by valid credentials, or null. Set by the Track API guard before parsing. */
    workspace: WorkspaceState | null;
    /** Size of the request body in bytes, 0 when there is none. Set by the body parser. */
    bodyBytes: number;
  }

  interface FastifyContextConfig {
    /** Serve workspaces of either region instead of redirecting or rejecting them. */
    anyRegion?: boolean;
  }
}
