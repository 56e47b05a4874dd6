import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PayloadTooLargeError } from './errors';
import {
  INTERNAL_ERROR,
  PROBLEM_CONTENT_TYPE,
  ProblemDetails,
  toProblemDetails,
} from './problem-details';
import { BODY_LIMIT_SETTINGS } from './route-policy';

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
  const details = toProblemDetails(tooLargeForRoute(error, reply.request) ?? error);
  if (!details) {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const problem = details ?? INTERNAL_ERROR;
  const { contentType, body } = render(problem);
  void reply.status(problem.status).header('content-type', contentType).send(body);
  return problem;
}

/** Fastify's "body too large" as a problem naming the route's limit and the setting that raises it. */
function tooLargeForRoute(error: unknown, request: FastifyRequest): PayloadTooLargeError | null {
  if ((error as { code?: string }).code !== 'FST_ERR_CTP_BODY_TOO_LARGE') return null;
  const limitClass = request.routeOptions.config.policy?.bodyLimit ?? 'default';
  const advice = limitClass === 'predict' ? 'split the batch' : 'send a smaller body';
  return new PayloadTooLargeError(
    `The body is larger than this route's limit of ${request.routeOptions.bodyLimit} bytes; ` +
      `${advice}, or raise ${BODY_LIMIT_SETTINGS[limitClass]}.`,
  );
}
