#!/usr/bin/env node
// A checked-in launcher, so package managers can link the command before dist/ is built (in a workspace).
import '../dist/cli.js';
