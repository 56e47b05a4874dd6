import { campaignSummary, CampaignOutcome, runCampaign } from './support/crash-campaign/campaign';
import { makeDataDir, removeDataDir } from './support/test-app';

/**
 * The crash campaign: on one data directory, CYCLES times "start the service, check everything it
 * ever acknowledged, run a scripted concurrent workload, SIGKILL it at a random moment", then one
 * last start and check. Kills are aimed in turn at random moments, mid-upload, mid-alias-move,
 * mid-training, mid-import, and right after an acknowledgement while a registry write is in flight.
 *
 * The workload (support/crash-campaign/workload.ts) uploads datasets (JSON rows or records, CSV;
 * small, large and wide tables), starts training jobs (some long enough to be killed while
 * running, some with `alias`), registers versions from artifacts (some with `alias`), moves
 * aliases, asks for a version that does not exist (a refused alias move), and predicts. Every 2xx
 * received in full is an acknowledged write and goes into a ledger (ledger.ts); so does every state
 * read back after a restart, since a later restart must not lose it either. The checks after each
 * restart (checks.ts) record what they find wrong against one claim each; the claims are asserted
 * below, over the whole campaign.
 *
 * CRASH_CYCLES (default 20), CRASH_SEED and CRASH_REFUSED=0 (no refused alias moves) change the
 * campaign; the script and kill delays are reproducible from the seed, the exact interleaving of
 * concurrent requests is not. CRASH_REPORT=1 prints every kill.
 */
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? 20261124);
const REFUSED_MOVES = process.env.CRASH_REFUSED !== '0';

describe(`crash campaign: ${CYCLES} SIGKILLs at random points of a scripted workload`, () => {
  let dataDir: string;
  let outcome: CampaignOutcome;

  beforeAll(async () => {
    dataDir = makeDataDir();
    outcome = await runCampaign({
      dataDir,
      cycles: CYCLES,
      seed: SEED,
      refusedMoves: REFUSED_MOVES,
    });
    // One line in `npm test`.
    process.stdout.write(`${campaignSummary(outcome, SEED, !!process.env.CRASH_REPORT)}\n`);
  }, 300_000);

  afterAll(() => {
    if (dataDir) removeDataDir(dataDir);
  });

  it(`runs all ${CYCLES} kills (it stops early past 100 violations)`, () => {
    expect(outcome.stats.length).toBe(CYCLES);
  });

  it('keeps every acknowledged dataset, with its checksum, row count and rows; stores none twice or unasked', () => {
    expect(outcome.ledger.violations.datasets).toEqual([]);
  });

  it('keeps every accepted job; leaves none running from before a kill; registers none twice; a finished job stays as it was', () => {
    // Also: queued jobs run again and end; succeeded ⇔ its version exists, failed and cancelled
    // have none.
    expect(outcome.ledger.violations.jobs).toEqual([]);
  });

  it('keeps every acknowledged version, numbered 1..N per model, its artifact matching its checksum', () => {
    // Imports hold the coefficients sent; versions of jobs come from jobs that succeeded with them.
    expect(outcome.ledger.violations.versions).toEqual([]);
  });

  it('predicts the same for every version, bit for bit, before and after every kill', () => {
    expect(outcome.ledger.violations.predictions).toEqual([]);
  });

  it('leaves every alias on a ready version its acknowledged moves allow, as the audit trail says; a refused move changes nothing', () => {
    // Allowed: the latest acknowledged target, or that of a move (PUT, import or job with
    // `alias`) that was not acknowledged or could have committed later.
    expect(outcome.ledger.violations.aliases).toEqual([]);
  });

  it('leaves a database that passes its integrity check (PRAGMA integrity_check on SQLite)', () => {
    expect(outcome.integrity).toBe('ok');
  });
});
