import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProblemDetails } from '../common/problem-details';
import { sendProblem } from '../common/problem-details.filter';
import { MetricsService } from '../metrics/metrics.service';
import { INFER_ROUTE_SCHEMA, InferRouteParams } from './dto/inference.dto';
import { PREDICT_ROUTE_SCHEMA, PredictBody, PredictQuery } from './dto/predict.dto';
import type { LoadedVersion, ServedRoute } from './loaded-models.service';
import { PredictionLogService } from '../monitoring/prediction-log.service';
import type { PredictionRoute } from '../monitoring/prediction-log.entity';
import { ShadowTrafficService } from './shadow-traffic.service';
import { chooseVersion, mirrors, ROUTING_KEY_HEADER } from './traffic-split';
import { asOpenInferenceError } from './open-inference.filter';
import { installBinaryInference } from './binary-inference';
import {
  asTensor,
  InferenceRequest,
  PredictionResult,
  PredictionService,
} from './prediction.service';
import { performance } from 'node:perf_hooks';
import { assembleBinaryResponse, INFERENCE_HEADER_CONTENT_LENGTH } from '../tensors/binary-tensors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the prediction routes once answered: the version that answered, and for how many rows. */
    served: AnsweredRequest | null;
  }
}

interface AnsweredRequest {
  version: LoadedVersion;
  rows: number;
  /** The alias that routed the request, null when it named a version. */
  alias: string | null;
  /** What the prediction log keeps, when this request was drawn for it. */
  log: { protocol: PredictionRoute; inputs: LoggedInputs; outputs: Record<string, unknown> } | null;
}

type LoggedInputs = { instances: unknown[] } | { inputs: unknown[] };
type Protocol = PredictionRoute;

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
    private readonly log: PredictionLogService,
    private readonly shadows: ShadowTrafficService,
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
      onResponse: this.answered,
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
        onResponse: this.answered,
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

  /**
   * Returns the body for Fastify to send: no promise on the path where the version is loaded. The
   * canary takes its share of requests; the shadow, if drawn, runs after the answer is computed.
   */
  private predict(
    route: ServedRoute,
    instances: unknown[],
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const served = chooseVersion(route, request.headers[ROUTING_KEY_HEADER]);
    const started = mirrors(route) && route.shadow?.version !== served ? performance.now() : -1;
    void reply.header('x-model-version', String(served.version));
    const result = this.prediction.predict(served, instances);
    // No closure on the synchronous path (every version trained here).
    return result instanceof Promise
      ? result.then((answer) => this.predicted(route, served, instances, request, answer, started))
      : this.predicted(route, served, instances, request, result, started);
  }

  /** Records what answered for the metrics and the log; mirrors to the shadow when `started` ≥ 0. */
  private predicted(
    route: ServedRoute,
    served: LoadedVersion,
    instances: unknown[],
    request: FastifyRequest,
    answer: PredictionResult,
    started: number,
  ): PredictionResult {
    request.served = {
      version: served,
      rows: instances.length,
      alias: route.alias,
      log: this.log.shouldLog(served.model)
        ? { protocol: 'v1', inputs: { instances }, outputs: loggedOutputs(answer) }
        : null,
    };
    if (started >= 0) {
      const elapsed = performance.now() - started;
      this.shadows.offer(route, { protocol: 'v1', instances, answer }, elapsed);
    }
    return answer;
  }

  private infer(
    route: ServedRoute,
    body: InferenceRequest,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const served = chooseVersion(route, request.headers[ROUTING_KEY_HEADER]);
    const mirror = mirrors(route) && route.shadow?.version !== served;
    const started = mirror ? performance.now() : 0;
    const { binaryTensors } = request;
    void reply.header('x-model-version', String(served.version));
    // No closure on the synchronous path (every version trained here, JSON tensors).
    if (served.kind === 'modeldock' && !binaryTensors && !asksForBinary(body)) {
      const result = this.prediction.infer(served, body);
      this.inferred(route, served, body, request, result.outputs);
      if (mirror) {
        const answer = result.outputs.map(asTensor);
        const mirrored = { protocol: 'v2' as const, request: body, binary: null, answer };
        this.shadows.offer(route, mirrored, performance.now() - started);
      }
      return result;
    }
    // The primary's run may move the binary data to its thread: the shadow gets a copy.
    const binaryCopy = mirror && binaryTensors ? Buffer.from(binaryTensors) : null;
    return this.prediction.inferTensors(served, body, binaryTensors).then((answer) => {
      const { response, binaryParts } = answer;
      this.inferred(route, served, body, request, response.outputs);
      if (mirror) {
        const mirrored = { protocol: 'v2' as const, request: body, binary: binaryCopy };
        const elapsed = performance.now() - started;
        this.shadows.offer(route, { ...mirrored, answer: answer.outputs }, elapsed);
      }
      if (binaryParts.length === 0) return response;
      const { body: bytes, headerLength } = assembleBinaryResponse(response, binaryParts);
      void reply
        .header('content-type', 'application/octet-stream')
        .header(INFERENCE_HEADER_CONTENT_LENGTH, String(headerLength));
      return bytes;
    });
  }

  /** Records what answered a V2 request, for the metrics and the log. */
  private inferred(
    route: ServedRoute,
    served: LoadedVersion,
    body: InferenceRequest,
    request: FastifyRequest,
    outputs: { shape: number[] }[],
  ): void {
    request.served = {
      version: served,
      rows: outputs[0]?.shape[0] ?? 0,
      alias: route.alias,
      log: this.log.shouldLog(served.model)
        ? { protocol: 'v2', inputs: { inputs: body.inputs }, outputs: { outputs } }
        : null,
    };
  }

  /** The in-flight gauge: up now, down on 'close' (once per response, answered or aborted). */
  private readonly track = (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    this.metrics.predictionStarted();
    reply.raw.on('close', this.untrack);
    done();
  };

  /** One shared listener: no closure or `once` wrapper per request. */
  private readonly untrack = () => this.metrics.predictionEnded();

  /** Once an answer is sent: the answering version's count and latency, and the prediction log. */
  private readonly answered = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const { served } = request;
    if (served && reply.statusCode < 400) {
      served.version.series.answered(served.rows, reply.elapsedTime / 1000);
      if (served.log) this.offerToLog(request, served, reply.elapsedTime);
    }
    done();
  };

  private offerToLog(request: FastifyRequest, served: AnsweredRequest, latencyMs: number): void {
    const { version, log } = served;
    if (!log) return;
    this.log.offer({
      modelId: version.modelId,
      model: version.model,
      version: version.version,
      alias: served.alias,
      requestId: request.id,
      route: log.protocol,
      apiKeyId: request.actor?.keyId ?? null,
      rows: served.rows,
      latencyMs,
      time: new Date(),
      inputs: log.inputs,
      outputs: log.outputs,
    });
  }

  private fail(protocol: Protocol, error: FastifyError, reply: FastifyReply): void {
    const render = protocol === 'v1' ? undefined : asOpenInferenceError;
    const problem = sendProblem(reply, error, this.logger, render);
    this.metrics.countPredictionFailure(protocol, reasonOf(problem));
  }
}

/** A v1 answer as the log keeps it: what was predicted, without the envelope. */
function loggedOutputs(answer: PredictionResult): Record<string, unknown> {
  const { predictions, probabilities, classes } = answer;
  return probabilities ? { predictions, probabilities, classes } : { predictions };
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
