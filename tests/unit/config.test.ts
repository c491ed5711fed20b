import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configTable, loadConfig } from '../../src/config.js';
import { ErrorCodes } from '../../src/domain/errors.js';

const secret = 's'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    return (err as ConfigError).problems;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('loadConfig', () => {
  it('applies defaults and converts strings to typed values', () => {
    const config = loadConfig({ JWT_SECRET: secret, PORT: '4000', DEMO_SEED: 'true' });
    expect(config.PORT).toBe(4000);
    expect(config.DEMO_SEED).toBe(true);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.ACCESS_TOKEN_TTL_S).toBe(900);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses port 3000 by default', () => {
    expect(loadConfig({ JWT_SECRET: secret }).PORT).toBe(3000);
  });

  it('treats an empty string as unset', () => {
    const config = loadConfig({ JWT_SECRET: secret, DATABASE_URL: '', PORT: '' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });

  it('reports every problem at once, one line per variable', () => {
    const problems = problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', ISOLATION: 'vm', ACCESS_TOKEN_TTL_S: '5' });
    const keys = problems.map((p) => p.split(':')[0]);
    expect(keys.sort()).toEqual(['ACCESS_TOKEN_TTL_S', 'ISOLATION', 'JWT_SECRET', 'LOG_LEVEL', 'PORT']);
  });

  it('rejects a short JWT secret without echoing it', () => {
    const problems = problemsOf({ JWT_SECRET: 'short-secret' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^JWT_SECRET/);
    expect(problems[0]).not.toContain('short-secret');
  });

  it('rejects a port out of range', () => {
    expect(problemsOf({ JWT_SECRET: secret, PORT: '70000' })[0]).toMatch(/^PORT/);
  });
});

describe('README configuration table', () => {
  it('matches the config schema (regenerate with npm run config:docs)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(configTable());
  });
});
