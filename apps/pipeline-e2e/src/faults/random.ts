/** Returns a seeded generator of numbers in [0, 1) (mulberry32), so a seed replays a schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Returns a uniform draw from [min, max). */
export function between(random: () => number, min: number, max: number): number {
  return min + random() * (max - min);
}
