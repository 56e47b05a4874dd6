import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { INTERNAL_ERROR, toProblemDetails } from '../common/problem-details';
import { openInferenceError } from './dto/inference.dto';

/** Errors of the /v2 routes as the Open Inference Protocol has them: `{ "error": "..." }`. */
@Catch()
export class OpenInferenceExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendOpenInferenceError(host.switchToHttp().getResponse<FastifyReply>(), exception, this.logger);
  }
}

/** The status of the problem details the rest of the API would answer, in the protocol's shape. */
export function sendOpenInferenceError(
  reply: FastifyReply,
  error: unknown,
  logger: Pick<Logger, 'error'>,
): void {
  const details = toProblemDetails(error);
  if (!details) {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const body = details ?? INTERNAL_ERROR;
  void reply.status(body.status).send(openInferenceError(body));
}
