import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { INTERNAL_ERROR, PROBLEM_CONTENT_TYPE, toProblemDetails } from './problem-details';

/** The one global error filter: every error leaves as application/problem+json, never a stack trace. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendProblem(reply, exception, this.logger);
  }
}

export function sendProblem(
  reply: FastifyReply,
  error: unknown,
  logger: Pick<Logger, 'error'>,
): void {
  const details = toProblemDetails(error);
  if (!details) {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const body = details ?? INTERNAL_ERROR;
  reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}
