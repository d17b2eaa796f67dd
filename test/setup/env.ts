import 'reflect-metadata';
import { TEST_ENV } from './test-env.js';

for (const [key, value] of Object.entries(TEST_ENV)) {
  process.env[key] ??= value;
}
