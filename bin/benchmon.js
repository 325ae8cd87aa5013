#!/usr/bin/env node
// Entry point of the `benchmon` command; the code is built into dist/ by `npm run build`.
import { main } from '../dist/src/cli/main.js';

await main(process.argv);
