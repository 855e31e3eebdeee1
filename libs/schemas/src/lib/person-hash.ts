/**
 * 32-bit FNV-1a hash of a person key. Batches carry the hashes of the people
 * in them so that the sender can keep two batches about the same person from
 * being in flight at once without parsing the bodies. A collision only makes
 * the sender wait when it need not.
 */
export function hashPerson(personKey: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < personKey.length; i++) {
    hash ^= personKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Encodes person hashes for a Kafka header. */
export function encodePersonHashes(hashes: Uint32Array): string {
  return Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength).toString('base64');
}

export function decodePersonHashes(header: string): Uint32Array {
  const bytes = Buffer.from(header, 'base64');
  const copy = new Uint8Array(bytes.length - (bytes.length % 4));
  copy.set(bytes.subarray(0, copy.length));
  return new Uint32Array(copy.buffer);
}
