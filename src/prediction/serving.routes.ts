import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProblemDetails } from '../common/problem-details';
import { sendProblem } from '../common/problem-details.filter';
import { MetricsService } from '../metrics/metrics.service';
import { INFER_ROUTE_SCHEMA, InferRouteParams } from './dto/inference.dto';
import { PREDICT_ROUTE_SCHEMA, PredictBody, PredictQuery } from './dto/predict.dto';
import type { LoadedVersion } from './loaded-models.service';
import { asOpenInferenceError } from './open-inference.filter';
import { installBinaryInference } from './binary-inference';
import { InferenceRequest, PredictionService } from './prediction.service';
import { assembleBinaryResponse, INFERENCE_HEADER_CONTENT_LENGTH } from '../tensors/binary-tensors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the prediction routes once answered: the version that answered, and for how many rows. */
    served: { version: LoadedVersion; rows: number } | null;
  }
}

type Protocol = 'v1' | 'v2';

/**
 * The prediction hot path, registered on Fastify directly rather than through a Nest controller:
 * Nest's router, pipes and interceptors would cost more per request than the prediction itself.
 * Bodies are checked by the routes' compiled JSON schemas, values in one pass while packing the
 * batch; the rest of the app (request ids, access log, HTTP metrics) still runs in Fastify hooks.
 * Their class (in `config.routeClass`) gives them their body limit, key and rate limit.
 * Swagger documents these routes from `serving.openapi.ts`.
 */
@Injectable()
export class ServingRoutes implements OnModuleInit {
  private readonly logger = new Logger('Serving');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly prediction: PredictionService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.decorateRequest('served', null);
    installBinaryInference(fastify);
    fastify.route({
      method: 'POST',
      url: '/v1/models/:name/predict',
      schema: PREDICT_ROUTE_SCHEMA,
      config: { routeClass: 'predict', access: 'predict' },
      onRequest: this.track,
      errorHandler: (error, _request, reply) => this.fail('v1', error, reply),
      handler: (request, reply) => {
        const { name } = request.params as { name: string };
        const { instances } = request.body as PredictBody;
        const { version, alias } = request.query as PredictQuery;
        const selector = { version: version === undefined ? undefined : Number(version), alias };
        const selected = this.prediction.select(name, selector);
        return selected instanceof Promise
          ? selected.then((served) => this.predict(served, instances, request, reply))
          : this.predict(selected, instances, request, reply);
      },
    });
    for (const url of ['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer']) {
      fastify.route({
        method: 'POST',
        url,
        schema: INFER_ROUTE_SCHEMA,
        config: { routeClass: 'infer', access: 'predict' },
        onRequest: this.track,
        errorHandler: (error, _request, reply) => this.fail('v2', error, reply),
        handler: (request, reply) => {
          const { name, version } = request.params as InferRouteParams;
          const body = request.body as InferenceRequest;
          const selector = version === undefined ? {} : { version: Number(version) };
          const selected = this.prediction.select(name, selector);
          return selected instanceof Promise
            ? selected.then((served) => this.infer(served, body, request, reply))
            : this.infer(selected, body, request, reply);
        },
      });
    }
  }

  /** Returns the body for Fastify to send: no promise on the path where the version is loaded. */
  private predict(
    served: LoadedVersion,
    instances: unknown[],
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const result = this.prediction.predict(served, instances);
    request.served = { version: served, rows: instances.length };
    void reply.header('x-model-version', String(served.version));
    return result;
  }

  private infer(
    served: LoadedVersion,
    body: InferenceRequest,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const { binaryTensors } = request;
    if (served.kind === 'modeldock' && !binaryTensors && !asksForBinary(body)) {
      const result = this.prediction.infer(served, body);
      request.served = { version: served, rows: result.outputs[0]?.shape[0] ?? 0 };
      return result;
    }
    return this.prediction.inferTensors(served, body, binaryTensors).then((answer) => {
      const { response, binaryParts } = answer;
      request.served = { version: served, rows: response.outputs[0]?.shape[0] ?? 0 };
      if (binaryParts.length === 0) return response;
      const { body: bytes, headerLength } = assembleBinaryResponse(response, binaryParts);
      void reply
        .header('content-type', 'application/octet-stream')
        .header(INFERENCE_HEADER_CONTENT_LENGTH, String(headerLength));
      return bytes;
    });
  }

  /** In-flight gauge and, once the response is out, the answering version's count and latency. */
  private readonly track = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    this.metrics.predictionStarted();
    reply.raw.once('close', () => {
      this.metrics.predictionEnded();
      const { served } = request;
      if (served && reply.statusCode < 400) {
        served.version.series.answered(served.rows, reply.elapsedTime / 1000);
      }
    });
    done();
  };

  private fail(protocol: Protocol, error: FastifyError, reply: FastifyReply): void {
    const render = protocol === 'v1' ? undefined : asOpenInferenceError;
    const problem = sendProblem(reply, error, this.logger, render);
    this.metrics.countPredictionFailure(protocol, reasonOf(problem));
  }
}

/** Whether any output is asked for as binary data (the extension), so the tensor path answers. */
function asksForBinary(body: InferenceRequest): boolean {
  return (
    body.parameters?.binary_data_output !== undefined ||
    (body.outputs?.some((output) => output.parameters?.binary_data !== undefined) ?? false)
  );
}

/** `invalid_input`, `not_found`, `payload_too_large`…: a bounded label from the problem type. */
function reasonOf(details: ProblemDetails): string {
  return details.type.slice(details.type.lastIndexOf('/') + 1).replace(/-/g, '_');
}
