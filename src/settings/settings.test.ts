import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSettings, prometheusListenAddress, SettingsError } from './settings.js';

const CWD = '/srv/bench';

function settingsError(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env, CWD);
  } catch (err) {
    assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

describe('loadSettings', () => {
  it('gives the documented defaults for an empty environment, frozen', () => {
    const s = loadSettings({}, CWD);
    assert.deepEqual({ ...s }, {
      DEPLOYMENT_MODE: 'local',
      PROMETHEUS_MODE: 'local',
      PROMETHEUS_URL: 'http://127.0.0.1:9090',
      PROMETHEUS_CONFIG_PATH: '/srv/bench/.state/prometheus/prometheus.yml',
      PROMETHEUS_BIN: 'prometheus',
      PROMTOOL_BIN: 'promtool',
      PROMETHEUS_RETENTION: '15d',
      PROMETHEUS_TIMEOUT: '10s',
      PROMETHEUS_FILE_SD_REFRESH: '5m',
      SERVER_API_URL: 'http://127.0.0.1:8002',
      DEFAULT_SCRAPE_INTERVAL: '15s',
      DEFAULT_SCRAPE_TIMEOUT: '10s',
      BENCHMON_HOST: '0.0.0.0',
      BENCHMON_PORT: 8002,
      BENCHMON_STATE_DIR: '/srv/bench/.state',
      ARTIFACTS_ROOT: '/srv/bench/artifacts',
      LOG_LEVEL: 'info',
      SLURM_COMMAND_TIMEOUT: '30s',
      SLURM_POLL_INTERVAL: '2s',
      SLURM_ADDRESS_SOURCE: 'node-addr',
      SLURM_NODE_EXPORTER_BIN: 'prometheus-node-exporter',
      SLURM_DCGM_EXPORTER_BIN: 'dcgm-exporter',
      SLURM_PROMETHEUS_START_TIMEOUT: '120s',
      SLURM_PROMETHEUS_MAX_RESUBMITS: 3,
      PROXY_TIMEOUT: '10s',
    });
    assert.ok(Object.isFrozen(s));
    assert.throws(() => {
      (s as { BENCHMON_PORT: number }).BENCHMON_PORT = 1;
    }, TypeError);
  });

  it('treats an empty variable as unset', () => {
    const s = loadSettings({ BENCHMON_PORT: '', LOG_LEVEL: '', PROMETHEUS_URL: '', BENCHMON_API_TOKEN: '', PROMETHEUS_EXTRA_SCRAPE_CONFIGS: '' }, CWD);
    assert.equal(s.BENCHMON_PORT, 8002);
    assert.equal(s.LOG_LEVEL, 'info');
    assert.equal(s.PROMETHEUS_URL, 'http://127.0.0.1:9090');
    assert.equal('BENCHMON_API_TOKEN' in s, false);
    assert.equal('PROMETHEUS_EXTRA_SCRAPE_CONFIGS' in s, false);
  });

  it('keeps falsy but valid values: BENCHMON_PORT=0 (pick a free port) is not replaced by the default', () => {
    assert.equal(loadSettings({ BENCHMON_PORT: '0' }, CWD).BENCHMON_PORT, 0);
    assert.equal(loadSettings({ BENCHMON_PORT: '65535' }, CWD).BENCHMON_PORT, 65535);
  });

  it('takes every variable from the given environment', () => {
    const s = loadSettings({
      BENCHMON_PORT: '9002',
      BENCHMON_HOST: '127.0.0.1',
      BENCHMON_STATE_DIR: 'run/state',
      ARTIFACTS_ROOT: '/data/artifacts',
      PROMETHEUS_URL: 'http://10.0.0.5:9191/',
      PROMETHEUS_BIN: '/opt/prometheus/prometheus',
      PROMTOOL_BIN: '/opt/prometheus/promtool',
      PROMETHEUS_RETENTION: '2d',
      PROMETHEUS_TIMEOUT: '3s',
      PROMETHEUS_FILE_SD_REFRESH: '1s',
      PROMETHEUS_EXTRA_SCRAPE_CONFIGS: 'extra.yml',
      DEFAULT_SCRAPE_INTERVAL: '5s',
      DEFAULT_SCRAPE_TIMEOUT: '5s',
      DEPLOYMENT_MODE: 'slurm',
      BENCHMON_API_TOKEN: 'a-long-enough-token',
      LOG_LEVEL: 'debug',
    }, CWD);
    assert.equal(s.BENCHMON_PORT, 9002);
    assert.equal(s.BENCHMON_HOST, '127.0.0.1');
    assert.equal(s.BENCHMON_STATE_DIR, '/srv/bench/run/state', 'relative paths resolve against the working directory');
    assert.equal(s.PROMETHEUS_CONFIG_PATH, '/srv/bench/run/state/prometheus/prometheus.yml', 'the config lives in the state directory');
    assert.equal(s.ARTIFACTS_ROOT, '/data/artifacts');
    assert.equal(s.PROMETHEUS_URL, 'http://10.0.0.5:9191', 'trailing slash removed');
    assert.equal(s.SERVER_API_URL, 'http://127.0.0.1:9002', 'self-scrape URL follows BENCHMON_PORT');
    assert.equal(s.PROMETHEUS_BIN, '/opt/prometheus/prometheus');
    assert.equal(s.PROMTOOL_BIN, '/opt/prometheus/promtool');
    assert.equal(s.PROMETHEUS_RETENTION, '2d');
    assert.equal(s.PROMETHEUS_TIMEOUT, '3s');
    assert.equal(s.PROMETHEUS_FILE_SD_REFRESH, '1s');
    assert.equal(s.PROMETHEUS_EXTRA_SCRAPE_CONFIGS, '/srv/bench/extra.yml');
    assert.equal(s.DEFAULT_SCRAPE_INTERVAL, '5s');
    assert.equal(s.DEFAULT_SCRAPE_TIMEOUT, '5s', 'a timeout equal to the interval is allowed');
    assert.equal(s.DEPLOYMENT_MODE, 'slurm');
    assert.equal(s.BENCHMON_API_TOKEN, 'a-long-enough-token');
    assert.equal(s.LOG_LEVEL, 'debug');
  });

  it('slurm mode and the Slurm settings', () => {
    const s = loadSettings({
      PROMETHEUS_MODE: 'slurm', SLURM_BIN_DIR: '/opt/slurm/bin', SLURM_COMMAND_PREFIX: 'ssh login01', SLURM_POLL_INTERVAL: '5s',
      SLURM_PROMETHEUS_PARTITION: 'cpu', SLURM_PROMETHEUS_TIME_LIMIT: '1-00:00:00', SLURM_PROMETHEUS_SBATCH_ARGS: '--mem=4G --account=bench',
      SLURM_PROMETHEUS_MAX_RESUBMITS: '0', PROXY_TIMEOUT: '3s',
    }, CWD);
    assert.equal(s.PROMETHEUS_MODE, 'slurm');
    assert.equal(s.SLURM_BIN_DIR, '/opt/slurm/bin');
    assert.equal(s.SLURM_COMMAND_PREFIX, 'ssh login01');
    assert.equal(s.SLURM_POLL_INTERVAL, '5s');
    assert.equal(s.SLURM_PROMETHEUS_PARTITION, 'cpu');
    assert.equal(s.SLURM_PROMETHEUS_TIME_LIMIT, '1-00:00:00');
    assert.equal(s.SLURM_PROMETHEUS_SBATCH_ARGS, '--mem=4G --account=bench');
    assert.equal(s.SLURM_PROMETHEUS_MAX_RESUBMITS, 0, 'zero resubmissions is a valid choice');
    assert.equal(s.PROXY_TIMEOUT, '3s');
  });

  it('external mode needs PROMETHEUS_CONFIG_PATH and takes it as given', () => {
    const err = settingsError({ PROMETHEUS_MODE: 'external', PROMETHEUS_URL: 'http://prom:9090' });
    assert.equal(err.variable, 'PROMETHEUS_CONFIG_PATH');
    const s = loadSettings({ PROMETHEUS_MODE: 'external', PROMETHEUS_URL: 'http://prom:9090', PROMETHEUS_CONFIG_PATH: 'compose/prometheus.yml' }, CWD);
    assert.equal(s.PROMETHEUS_MODE, 'external');
    assert.equal(s.PROMETHEUS_CONFIG_PATH, '/srv/bench/compose/prometheus.yml');
  });

  const bad: Array<[string, Record<string, string>]> = [
    ['BENCHMON_PORT', { BENCHMON_PORT: 'abc' }],
    ['BENCHMON_PORT', { BENCHMON_PORT: '-1' }],
    ['BENCHMON_PORT', { BENCHMON_PORT: '80.5' }],
    ['BENCHMON_PORT', { BENCHMON_PORT: '65536' }],
    ['PROMETHEUS_URL', { PROMETHEUS_URL: 'ftp://x' }],
    ['PROMETHEUS_URL', { PROMETHEUS_URL: 'not a url' }],
    ['SERVER_API_URL', { SERVER_API_URL: 'localhost:8002' }],
    ['PROMETHEUS_MODE', { PROMETHEUS_MODE: 'docker' }],
    ['SLURM_POLL_INTERVAL', { SLURM_POLL_INTERVAL: 'often' }],
    ['SLURM_ADDRESS_SOURCE', { SLURM_ADDRESS_SOURCE: 'dns' }],
    ['SLURM_PROMETHEUS_MAX_RESUBMITS', { SLURM_PROMETHEUS_MAX_RESUBMITS: 'many' }],
    ['SLURM_PROMETHEUS_TIME_LIMIT', { SLURM_PROMETHEUS_TIME_LIMIT: 'forever' }],
    ['PROXY_TIMEOUT', { PROXY_TIMEOUT: '0s' }],
    ['DEPLOYMENT_MODE', { DEPLOYMENT_MODE: 'k8s' }],
    ['DEFAULT_SCRAPE_INTERVAL', { DEFAULT_SCRAPE_INTERVAL: '5x' }],
    ['DEFAULT_SCRAPE_INTERVAL', { DEFAULT_SCRAPE_INTERVAL: '0s' }],
    ['DEFAULT_SCRAPE_TIMEOUT', { DEFAULT_SCRAPE_TIMEOUT: '1.5s' }],
    ['DEFAULT_SCRAPE_TIMEOUT', { DEFAULT_SCRAPE_INTERVAL: '5s', DEFAULT_SCRAPE_TIMEOUT: '6s' }],
    ['DEFAULT_SCRAPE_TIMEOUT', { DEFAULT_SCRAPE_INTERVAL: '1s', DEFAULT_SCRAPE_TIMEOUT: '1001ms' }],
    ['PROMETHEUS_TIMEOUT', { PROMETHEUS_TIMEOUT: '10' }],
    ['PROMETHEUS_RETENTION', { PROMETHEUS_RETENTION: 'forever' }],
    ['PROMETHEUS_FILE_SD_REFRESH', { PROMETHEUS_FILE_SD_REFRESH: '0s' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ];
  for (const [variable, env] of bad) {
    it(`rejects ${JSON.stringify(env)} naming ${variable} and the value`, () => {
      const err = settingsError(env);
      assert.equal(err.variable, variable);
      assert.match(err.message, new RegExp(`^invalid setting ${variable}: `));
      assert.ok(err.message.includes(env[variable]!), `the message does not show the bad value: ${err.message}`);
      assert.doesNotMatch(err.message, /\^\(|\$'/, 'the message shows a regular expression instead of the expected form');
      assert.equal(err.message.includes('\n'), false);
    });
  }

  it('says which values a choice takes', () => {
    assert.match(settingsError({ PROMETHEUS_MODE: 'docker' }).message, /local, external, slurm/);
    assert.match(settingsError({ LOG_LEVEL: 'loud' }).message, /fatal, error, warn, info, debug, trace, silent/);
  });

  it('rejects a short API token without printing it', () => {
    const err = settingsError({ BENCHMON_API_TOKEN: 'secret7' });
    assert.equal(err.variable, 'BENCHMON_API_TOKEN');
    assert.match(err.message, /at least 8 characters/);
    assert.equal(err.message.includes('secret7'), false, `the token leaked into the message: ${err.message}`);
  });
});

describe('prometheusListenAddress', () => {
  const addr = (url: string) => prometheusListenAddress(loadSettings({ PROMETHEUS_URL: url }, CWD));
  it('takes host and port from PROMETHEUS_URL, with the scheme default port and IPv6 brackets removed', () => {
    assert.deepEqual(addr('http://127.0.0.1:9191'), { host: '127.0.0.1', port: 9191 });
    assert.deepEqual(addr('http://prom.local'), { host: 'prom.local', port: 80 });
    assert.deepEqual(addr('https://prom.local'), { host: 'prom.local', port: 443 });
    assert.deepEqual(addr('http://[::1]:9090'), { host: '::1', port: 9090 });
  });
});
