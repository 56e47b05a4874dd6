import { getPriority, setPriority } from 'node:os';

/**
 * The nice value of background threads (training, drift): when they and the event loop want the
 * same core, the scheduler gives the event loop about nine tenths of it (weights 1024 and 110),
 * so predictions keep their latency while a job runs, and the job still advances.
 */
export const BACKGROUND_THREAD_NICE = 10;

/**
 * Lowers the calling thread's priority to `nice`, unless it is already as low. On Linux
 * `setpriority(PRIO_PROCESS, 0)` applies to the calling thread only (the nice value is per
 * thread), so a worker thread leaves the event loop and the other threads as they were. Where it
 * is refused, the thread runs at the priority it had.
 */
export function lowerThisThreadPriority(nice = BACKGROUND_THREAD_NICE): boolean {
  try {
    if (getPriority(0) < nice) setPriority(0, nice);
    return true;
  } catch {
    return false;
  }
}
