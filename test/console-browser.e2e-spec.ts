import type { Browser, BrowserContext, Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  describeInBrowser,
  launchChromium,
  screenshot,
  seriousAccessibilityViolations,
} from './support/browser';
import { buildConsole } from './support/console-build';
import {
  makeDataDir,
  removeDataDir,
  startApp,
  TEST_ADMIN_KEY,
  TestApp,
  waitForJob,
} from './support/test-app';

/** 3,000 houses: price from area and rooms, with noise (a seeded generator: the same every run). */
function housesCsv(): string {
  let seed = 7;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const lines = ['area_m2,rooms,price'];
  for (let i = 0; i < 3000; i++) {
    const area = 40 + uniform() * 120;
    const rooms = 1 + Math.floor(uniform() * 6);
    const price = 1000 * area + 5000 * rooms + (uniform() - 0.5) * 6000;
    lines.push(`${area.toFixed(1)},${rooms},${price.toFixed(0)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A person's way through the console in real Chromium, against the real app over HTTP: log in,
 * upload, train and watch the loss curve grow, open the version, promote and roll back (and the
 * next prediction is answered by the version the console chose), set a canary, see drift after a
 * skewed batch, make and revoke a key. Every page is checked with axe-core and photographed into
 * artifacts/console/; a CSP violation or a script error anywhere fails the run.
 */
describeInBrowser('the console in a browser', () => {
  let dataDir: string;
  let api: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let consoleUrl: string;

  beforeAll(async () => {
    buildConsole();
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    consoleUrl = `${api.baseUrl}/console`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // 4xx answers the flow provokes on purpose are logged by the browser as failed loads.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`console: ${message.text()}`);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    removeDataDir(dataDir);
  });

  afterEach(() => {
    // CSP violations and uncaught errors are reported here, by the step that caused them.
    expect(problems.splice(0)).toEqual([]);
  });

  /** axe on the page as it is, and a screenshot named for the step. */
  const look = async (name: string) => {
    await screenshot(page, name);
    expect({ page: name, violations: await seriousAccessibilityViolations(page) }).toEqual({
      page: name,
      violations: [],
    });
  };

  const open = async (route: string) => {
    await page.goto(`${consoleUrl}/#${route}`);
  };

  const predictedVersion = async () => {
    const answer = await api.request('POST', '/v1/models/houses/predict?alias=production', {
      instances: [{ area_m2: 80, rooms: 3 }],
    });
    expect(answer.status).toBe(200);
    return answer.body.version;
  };

  it('asks for a key, refuses a wrong one, and logs in with the admin key', async () => {
    await page.goto(consoleUrl);
    expect(page.url()).toBe(`${consoleUrl}/`);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Key refused' }).waitFor();
    await look('01-login-refused');

    await page.getByLabel('API key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await page.getByText('No models yet').waitFor();
    await look('02-models-empty');
  });

  it('uploads a CSV with a progress bar and shows its columns and rows', async () => {
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByRole('heading', { name: 'Datasets', level: 1 }).waitFor();
    await look('03a-datasets');
    const file = path.join(dataDir, 'houses.csv');
    writeFileSync(file, housesCsv());
    await page.getByLabel('CSV file').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('heading', { name: /Dataset houses/, level: 1 }).waitFor();
    await page.getByText('3,000').first().waitFor();
    await page.getByRole('rowheader', { name: 'area_m2' }).first().waitFor();
    await look('03b-dataset');
  });

  it('starts a training job from the form and shows the loss curve growing while it runs', async () => {
    await page.getByRole('link', { name: /Train a model/ }).click();
    await page.getByRole('heading', { name: /training job/i, level: 1 }).waitFor();
    await page.getByLabel('Model name').fill('houses');
    await page.getByLabel(/Target/).selectOption('price');
    await page.getByLabel('Algorithm').selectOption('linear-regression');
    await page.getByLabel('Optimizer').selectOption('sgd');
    await page.getByLabel('learningRate').fill('0.0005');
    // About 3-4 s on this machine: long enough to watch, short enough for a test.
    await page.getByLabel('epochs').fill('60000');
    await page.getByLabel(/Alias/).fill('production');
    await look('04-training-form');
    await page.getByRole('button', { name: 'Start training' }).click();

    // The job's page: its progress rises while the loss curve is drawn, then it succeeds.
    const progress = page.getByRole('progressbar').first();
    await progress.waitFor();
    const seen: number[] = [];
    let curveWhileRunning = false;
    let photographed = false;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (await page.getByText('succeeded').first().isVisible()) break;
      const value = Number(await progress.getAttribute('value'));
      const curve = (await page.locator('.chart canvas').count()) > 0;
      if (curve && value > 0.3 && !photographed) {
        await screenshot(page, '05-job-running');
        photographed = true;
      }
      curveWhileRunning ||= curve && value > 0;
      seen.push(value);
      await page.waitForTimeout(150);
    }
    await page.getByText('succeeded').first().waitFor();
    const rises = seen.filter((value, i) => i > 0 && value > seen[i - 1]).length;
    expect({ rises: rises > 1, curveWhileRunning, samples: seen.length }).toMatchObject({
      rises: true,
      curveWhileRunning: true,
    });
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await look('06-job-succeeded');
    expect(await predictedVersion()).toBe(1);
    await page.getByRole('link', { name: 'Training' }).first().click();
    await page.getByRole('heading', { name: 'Training jobs', level: 1 }).waitFor();
    await look('06b-jobs');
    await page.goBack();
  });

  it('opens the version: lineage, signature, metrics and the loss curve', async () => {
    await page.getByRole('link', { name: /houses version 1/ }).click();
    await page.getByRole('heading', { name: /houses v1/, level: 1 }).waitFor();
    await page.getByRole('link', { name: 'houses', exact: false }).first().waitFor();
    await look('07-version-overview');
    await page.getByRole('link', { name: 'Signature' }).click();
    await page
      .getByRole('rowheader', { name: /area_m2/ })
      .first()
      .waitFor();
    await look('08-version-signature');
    await page.getByRole('link', { name: 'Training' }).last().click();
    await page.locator('.chart canvas').first().waitFor();
    await look('09-version-training');
    await page.getByRole('link', { name: 'Reference' }).click();
    await page.locator('.chart canvas').first().waitFor();
    await look('09b-version-reference');
    // Try it: the example built from the signature, answered by this version.
    await page.getByRole('link', { name: 'Try it' }).click();
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText(/Answered by version/).waitFor();
    await look('09c-version-try');
  });

  it('promotes and rolls back on the model page, and the next prediction follows', async () => {
    // A second version, trained through the API while the person looks at the first.
    const dataset = (await api.request('GET', '/v1/datasets')).body.items[0].id;
    const job = await api.request('POST', '/v1/training-jobs', {
      model: 'houses',
      dataset,
      target: 'price',
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
    });
    expect(await waitForJob(api, job.body.id)).toMatchObject({ status: 'succeeded' });

    await open('/models/houses');
    const production = page.getByRole('article', { name: /production/ });
    await production.waitFor();
    await look('10-model');

    // The select's name includes its chosen option; the other two are "Canary/Shadow version".
    await production.getByRole('combobox', { name: /^Version/ }).selectOption('2');
    await production.getByRole('button', { name: 'Promote v2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Promote v2' }).click();
    // The page says what the change recorded (its event), above the aliases.
    await page.locator('.last-change', { hasText: /production v1 → v2/ }).waitFor();
    expect(await predictedVersion()).toBe(2);
    await look('11-model-promoted');

    await production.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back to v1' }).click();
    await page.locator('.last-change', { hasText: /production v2 → v1/ }).waitFor();
    expect(await predictedVersion()).toBe(1);
  });

  it('sends a share of the traffic to a canary', async () => {
    const production = page.getByRole('article', { name: /production/ });
    await production.getByLabel('Canary version').selectOption('2');
    await production.getByLabel(/Weight/).fill('0.25');
    await production.getByRole('button', { name: 'Start canary' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start canary' }).click();
    await production.getByRole('button', { name: 'Abort canary' }).waitFor();
    const alias = await api.request('GET', '/v1/models/houses/aliases/production');
    expect(alias.body).toMatchObject({ version: 1, canary: { version: 2, weight: 0.25 } });
    await look('12-model-canary');
  });

  it('shows drift after a batch of skewed inputs', async () => {
    await api.request('PUT', '/v1/models/houses/monitoring', { sampleRate: 1 });
    // Houses three times as large as any in training.
    const instances = Array.from({ length: 200 }, (_, i) => ({
      area_m2: 400 + (i % 50),
      rooms: 1 + (i % 6),
    }));
    expect(
      (await api.request('POST', '/v1/models/houses/predict?version=1', { instances })).status,
    ).toBe(200);
    // The log is written every second.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await open('/models/houses/versions/1?tab=drift');
    await page.locator('.status-drift').first().waitFor();
    await look('13-version-drift');
  });

  it('creates a key shown once, and a viewer sees no control it cannot use', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel(/Name/).fill('dashboard');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key').textContent())!.trim();
    expect(secret).toMatch(/^mdk_/);
    await look('14-key-created');

    // A second tab logs in as the viewer.
    const viewer = await context.newPage();
    await viewer.goto(consoleUrl);
    await viewer.getByLabel('API key').fill(secret);
    await viewer.getByRole('button', { name: 'Log in' }).click();
    await viewer.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    expect(await viewer.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    await viewer.goto(`${consoleUrl}/#/models/houses`);
    await viewer.getByRole('article', { name: /production/ }).waitFor();
    expect(await viewer.getByRole('button', { name: /Promote|Roll back|canary/ }).count()).toBe(0);
    await viewer.goto(`${consoleUrl}/#/datasets`);
    await viewer.getByRole('heading', { name: 'Datasets', level: 1 }).waitFor();
    expect(await viewer.getByLabel('CSV file').count()).toBe(0);
    await screenshot(viewer, '15-viewer-datasets');

    // The admin revokes it; the viewer's next request sends it back to the login, saying why.
    await page.getByRole('button', { name: 'Revoke dashboard' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke dashboard' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked dashboard' }).waitFor();
    expect(
      (await api.request('GET', '/v1/models', undefined, { authorization: `Bearer ${secret}` }))
        .status,
    ).toBe(401);
    await viewer.goto(`${consoleUrl}/#/models`);
    await viewer.getByLabel('API key').waitFor();
    await viewer.getByText(/log in again/).waitFor();
    await screenshot(viewer, '16-viewer-revoked');
    await viewer.close();
  });
  it('works behind a proxy that serves it under a path prefix', async () => {
    // An ingress's way: /modeldock/… on the proxy is /… on the service.
    const target = new URL(api.baseUrl);
    const proxy = createServer((request, response) => {
      if (!request.url!.startsWith('/modeldock/')) {
        response.writeHead(404).end();
        return;
      }
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url!.slice('/modeldock'.length),
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const prefixed = await context.newPage();
      await prefixed.goto(`http://127.0.0.1:${port}/modeldock/console`);
      expect(prefixed.url()).toBe(`http://127.0.0.1:${port}/modeldock/console/`);
      await prefixed.getByLabel('API key').fill(TEST_ADMIN_KEY);
      await prefixed.getByRole('button', { name: 'Log in' }).click();
      await prefixed.getByRole('link', { name: 'houses' }).first().waitFor();
      await screenshot(prefixed, '17-behind-a-prefix');
      await prefixed.close();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
