import { FuzzClient, fail } from './fuzz-client';

/**
 * The stored state the fuzzing must leave exactly as it was: the seeded dataset, the seeded model
 * `line` (its version, artifact, history) and its answers to fixed questions, read over HTTP.
 */

// The seeded model's fixed questions: the same answers before and after the fuzzing.
const FIXED_INSTANCES = [
  [2, 1],
  [0, 0],
  [6, 4],
  [-3.5, 1e6],
];
const FIXED_TENSORS = {
  inputs: [{ name: 'input-0', shape: [2, 2], datatype: 'FP64', data: [2, 1, 0.25, -7] }],
};

export interface StoredState {
  datasets: any;
  dataset: any;
  rows: any;
  models: any;
  model: any;
  versions: any;
  version: any;
  artifact: string;
  events: any;
  jobsTotal: number;
  lineJobs: any;
  prediction: any;
  inference: any;
}

export async function readStoredState(client: FuzzClient, datasetId: string): Promise<StoredState> {
  const get = async (url: string) => {
    const res = await client.send('GET', url);
    if (res.status !== 200) fail(res, 'snapshot read failed');
    return res;
  };
  const prediction = await client.sendJson('/v1/models/line/predict', {
    instances: FIXED_INSTANCES,
  });
  const inference = await client.sendJson('/v2/models/line/infer', FIXED_TENSORS);
  if (prediction.status !== 200) fail(prediction, 'the fixed prediction failed');
  if (inference.status !== 200) fail(inference, 'the fixed inference failed');
  return {
    datasets: (await get('/v1/datasets?limit=500')).body,
    dataset: (await get(`/v1/datasets/${datasetId}`)).body,
    rows: (await get(`/v1/datasets/${datasetId}/rows?limit=500`)).body,
    models: (await get('/v1/models?limit=500')).body,
    model: (await get('/v1/models/line')).body,
    versions: (await get('/v1/models/line/versions')).body,
    version: (await get('/v1/models/line/versions/1')).body,
    artifact: (await get('/v1/models/line/versions/1/artifact')).text,
    events: (await get('/v1/models/line/events?limit=500')).body,
    jobsTotal: (await get('/v1/training-jobs?limit=1')).body.total,
    lineJobs: (await get('/v1/training-jobs?model=line')).body,
    prediction: { version: prediction.headers.get('x-model-version'), body: prediction.body },
    inference: inference.body,
  };
}
