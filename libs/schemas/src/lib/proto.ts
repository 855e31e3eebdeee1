import { join } from 'node:path';

/**
 * Path of the Track API's gRPC definition. The build copies `libs/schemas/proto`
 * next to the compiled library, so the path holds for sources and for `dist`.
 */
export const TRACK_PROTO_PATH = join(__dirname, '..', '..', 'proto', 'track.proto');

export const TRACK_PROTO_PACKAGE = 'cio.track.v1';
export const TRACK_SERVICE = 'TrackService';
