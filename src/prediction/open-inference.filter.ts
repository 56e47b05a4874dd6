import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ProblemRenderer, sendProblem } from '../common/problem-details.filter';
import { openInferenceError } from './dto/inference.dto';

/** The Open Inference Protocol's error object, `{ "error": "..." }`, with the problem's status. */
export const asOpenInferenceError: ProblemRenderer = (details) => ({
  contentType: 'application/json; charset=utf-8',
  body: openInferenceError(details),
});

/** Errors of the /v2 routes as the Open Inference Protocol has them. */
@Catch()
export class OpenInferenceExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    sendProblem(reply, exception, this.logger, asOpenInferenceError);
  }
}
