import type { Timers } from '../../src/context';

/** A timer scheduled on ManualTimers: nothing runs until the test calls fire(). */
export interface ScheduledTimer {
  ms: number;
  fire(): void;
  readonly cancelled: boolean;
}

/** Timers (src/context.ts) that never fire by themselves: a test waits for `next()` and fires it, no sleeping. */
export interface ManualTimers extends Timers {
  /** The next timer scheduled (in order; one scheduled before the call is returned at once). */
  next(): Promise<ScheduledTimer>;
}

export function manualTimers(): ManualTimers {
  const scheduled: ScheduledTimer[] = [];
  const waiting: Array<(timer: ScheduledTimer) => void> = [];
  return {
    setTimeout(callback, ms) {
      let cancelled = false;
      let fired = false;
      const timer: ScheduledTimer = {
        ms,
        fire: () => {
          if (cancelled || fired) return;
          fired = true;
          callback();
        },
        get cancelled() {
          return cancelled;
        },
      };
      const handle = {
        cancel: () => {
          cancelled = true;
        },
      };
      const taker = waiting.shift();
      if (taker === undefined) scheduled.push(timer);
      else taker(timer);
      return handle;
    },
    clearTimeout(handle) {
      (handle as { cancel?: () => void } | undefined)?.cancel?.();
    },
    next() {
      const timer = scheduled.shift();
      return timer === undefined
        ? new Promise<ScheduledTimer>((resolve) => waiting.push(resolve))
        : Promise.resolve(timer);
    },
  };
}
