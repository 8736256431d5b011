/** Runs `fn` with ATTRLENS_CACHE_DIR set to `dir` ('off': no cache), restoring it after. */
export async function withCache<T>(dir: string, fn: () => T | Promise<T>): Promise<T> {
  const saved = process.env.ATTRLENS_CACHE_DIR;
  process.env.ATTRLENS_CACHE_DIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.ATTRLENS_CACHE_DIR;
    else process.env.ATTRLENS_CACHE_DIR = saved;
  }
}
