import type { FastifyReply } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTIVE_JOB_STATUSES, TrainingJob } from './training-job.entity';
import { toTrainingJobResponse } from './training.mapper';

const HEARTBEAT_MS = 15_000;

/**
 * Streams a job's progress as Server-Sent Events: a `progress` event whenever status, progress or
 * the loss curve changes (with the curve itself when `withLossHistory`), then one `done` event
 * with the whole job, and the stream ends. It reads the job from the database, so it works
 * whichever process runs the job.
 */
export async function streamJobEvents(
  reply: FastifyReply,
  readJob: () => Promise<TrainingJob>,
  {
    withLossHistory,
    pollIntervalMs,
    shouldEnd,
  }: { withLossHistory: boolean; pollIntervalMs: number; shouldEnd: () => boolean },
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  const headers = Object.fromEntries(
    Object.entries(reply.getHeaders()).filter(([, value]) => value !== undefined),
  ) as Record<string, string | number | string[]>;
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  let open = true;
  raw.on('close', () => (open = false));
  const send = (event: string, data: unknown, id?: number) =>
    raw.write(
      `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
    );

  let sequence = 0;
  let previous = '';
  let lastWrite = Date.now();
  try {
    while (open && !shouldEnd()) {
      const job = await readJob();
      const progress = {
        status: job.status,
        progress: job.progress,
        epochs: job.lossHistory.length,
        loss: job.lossHistory.at(-1) ?? null,
      };
      const key = JSON.stringify(progress);
      if (key !== previous) {
        // The live curve is thinned as it grows, so it is sent whole, not as the points since.
        send(
          'progress',
          withLossHistory ? { ...progress, lossHistory: job.lossHistory } : progress,
          ++sequence,
        );
        previous = key;
        lastWrite = Date.now();
      }
      if (!ACTIVE_JOB_STATUSES.includes(job.status)) {
        send('done', toTrainingJobResponse(job), ++sequence);
        break;
      }
      if (Date.now() - lastWrite > HEARTBEAT_MS) {
        raw.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await sleep(pollIntervalMs);
    }
  } catch {
    // The job vanished or the service is shutting down: end the stream, the client reconnects.
  }
  raw.end();
}
