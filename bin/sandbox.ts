#!/usr/bin/env node
/**
 * `npm start`: the local sandbox (local/main.ts) with the Personal File Store page (web/serve.ts).
 * The one place that knows both, so local/ and web/ import nothing of each other.
 */
import { runSandboxCli } from '../local/main';
import { createWebAppHandler } from '../web/serve';

// The page may talk to this sandbox's S3 gate and nowhere else (CSP connect-src).
void runSandboxCli((options) => createWebAppHandler(options));
