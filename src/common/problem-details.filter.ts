import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  INTERNAL_ERROR,
  PROBLEM_CONTENT_TYPE,
  ProblemDetails,
  toProblemDetails,
} from './problem-details';

/** The one global error filter: every error leaves as application/problem+json, never a stack trace. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendProblem(reply, exception, this.logger);
  }
}

/** How an error's problem details go on the wire: RFC 9457 by default. */
export type ProblemRenderer = (details: ProblemDetails) => { contentType: string; body: unknown };

const asProblemJson: ProblemRenderer = (details) => ({
  contentType: PROBLEM_CONTENT_TYPE,
  body: details,
});

/**
 * Answers with the error's problem details, and returns them; a server fault is logged and
 * answered as a bare 500.
 */
export function sendProblem(
  reply: FastifyReply,
  error: unknown,
  logger: Pick<Logger, 'error'>,
  render: ProblemRenderer = asProblemJson,
): ProblemDetails {
  const details = toProblemDetails(error);
  if (!details) {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const problem = details ?? INTERNAL_ERROR;
  const { contentType, body } = render(problem);
  void reply.status(problem.status).header('content-type', contentType).send(body);
  return problem;
}
