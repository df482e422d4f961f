/**
 * Polls `check` until it returns a value other than undefined, at most `limitMs` (a budget from
 * fixtures/real-components/budgets.ts); throws with `what` and the last error when the limit passes.
 */
export async function pollUntil<T>(
  what: string,
  limitMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${limitMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Settles `promise`, or throws when it neither resolves nor rejects within `limitMs` (a call that hangs). */
export async function settleWithin<T>(what: string, limitMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still unsettled after ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}
