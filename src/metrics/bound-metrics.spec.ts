import { Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics';

describe('bound metrics', () => {
  it('write a histogram exactly as prom-client does for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const buckets = [0.001, 0.01, 0.1];
    const labels = { model: 'm', version: '2' };
    const bound = new BoundHistogram(
      'latency_seconds',
      'Latency.',
      ['model', 'version'],
      buckets,
      ours,
    );
    const reference = new Histogram({
      name: 'latency_seconds',
      help: 'Latency.',
      labelNames: ['model', 'version'],
      buckets,
      registers: [theirs],
    });
    const series = bound.bind(labels);
    for (const value of [0.0005, 0.001, 0.002, 0.05, 0.5, 3]) {
      series.observe(value);
      reference.observe(labels, value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('count per label set, and drop a removed set from the exposition', async () => {
    const registry = new Registry();
    const counter = new BoundCounter('answers_total', 'Answers.', ['model'], registry);
    counter.bind({ model: 'a' }).inc();
    counter.bind({ model: 'a' }).inc(2);
    counter.bind({ model: 'b' }).inc();
    expect(await registry.metrics()).toContain('answers_total{model="a"} 3');
    counter.remove({ model: 'a' });
    const text = await registry.metrics();
    expect(text).not.toContain('model="a"');
    expect(text).toContain('answers_total{model="b"} 1');
  });
});
