#!/usr/bin/env node
// Entry point of the `packetflow` command: runs the compiled CLI.
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
