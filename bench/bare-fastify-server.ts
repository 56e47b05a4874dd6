// The ceiling for a Node HTTP JSON endpoint in bench:serve: bare Fastify with one hard-coded
// linear model, Fastify's default JSON parser and serializer, no schema, no framework around it.
// Run as `node dist/bench/bare-fastify-server.js <port>`; bench/serve.ts imports
// the model and predictRows to check every server's answers.
import Fastify from 'fastify';

export interface LinearModel {
  coefficients: number[];
  intercept: number;
}

/** The fixed model every server in bench:serve answers with (bench/flask_app.py holds a copy). */
export const BENCH_MODEL: LinearModel = {
  coefficients: [0.5, -1.25, 2, 0.75, -0.5, 1.5, -2.25, 0.25, 1, -0.75],
  intercept: 3,
};

/** intercept + coefficients · row for each row; serve.ts checks every server against it. */
export function predictRows({ coefficients, intercept }: LinearModel, rows: number[][]): number[] {
  const predictions = new Array<number>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let sum = intercept;
    for (let j = 0; j < coefficients.length; j++) sum += coefficients[j] * row[j];
    predictions[i] = sum;
  }
  return predictions;
}

/** `model` as the modeldock/v1 artifact the benchmarks register with ModelDock (inputs x0, x1, …). */
export function linearArtifact(model: LinearModel) {
  return {
    format: 'modeldock/v1',
    algorithm: 'linear-regression',
    inputs: model.coefficients.map((_, j) => ({ name: `x${j}`, type: 'number' })),
    output: { name: 'y', type: 'number' },
    coefficients: model.coefficients,
    intercept: model.intercept,
  };
}

/** The same body limit as ModelDock's predict route, so a batch of 10,000 rows fits. */
const BODY_LIMIT = 16 * 1024 * 1024;

function serve(port: number): void {
  const app = Fastify({ bodyLimit: BODY_LIMIT });
  const handler = async (request: { body: unknown }) => {
    const { instances } = request.body as { instances: number[][] };
    return { predictions: predictRows(BENCH_MODEL, instances) };
  };
  app.post('/predict', handler);
  // ModelDock's path with the name as a parameter, so scenario 4's round-robin over 1,000 paths
  // has a baseline driven by the very same load generator settings.
  app.post('/v1/models/:name/predict', handler);
  app.listen({ port, host: '127.0.0.1' }).catch((error: unknown) => {
    process.stderr.write(`bare-fastify-server: ${String(error)}\n`);
    process.exit(1);
  });
}

if (require.main === module) serve(Number(process.argv[2]));
